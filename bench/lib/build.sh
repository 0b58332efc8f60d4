# bench/lib/build.sh: the packages and the Release build every benchmark needs. Sourced, not run.
#
#   bench_build TARGET...   installs the Debian packages (scripts/install-deps), configures a
#                           Release build in $build (build-bench/) and builds only TARGET...;
#                           on failure shows the first errors and dies
#
# Sets build, server, keylinectl (paths of the programs once built). BENCH_BUILD_DIR names another
# build directory (e.g. a developer's own, while others use build-bench/ on the same machine).

build=${BENCH_BUILD_DIR:-$root/build-bench}
server=$build/server/keyline-server
keylinectl=$build/cli/keylinectl

bench_build() {
  say "installing packages and building (Release, $build)"
  scripts/install-deps
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j "$(nproc)" --target "$@" >"$build/bench-build.log" 2>&1 ||
    { grep -E -A12 '^FAILED|error:' "$build/bench-build.log" | head -60 >&2;
      die "build failed (log: $build/bench-build.log)"; }
}
