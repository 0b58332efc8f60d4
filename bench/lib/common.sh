# bench/lib/common.sh: what every benchmark script in bench/ starts with. Sourced, not run.
#
# Source it after `cd` to the repository root (it sets $root), then call bench_init.
#
#   bench_init                 installs the exit trap
#   say MESSAGE, die MESSAGE   progress on stderr; die ends the script with status 1
#   free_port VAR              a free TCP port in [20000, 32768) (pg-cluster wants < 32768)
#   wait_for_port PORT PID LOG until something listens on 127.0.0.1:PORT, while PID lives
#   bench_work_dir             creates var/bench/<script>.XXXXXX and sets $work
#   bench_spawn VAR OUT ERR CMD...   starts CMD in the background (stdout to OUT, stderr to ERR,
#                              both to OUT when they are the same file), sets VAR to its pid and
#                              stops it on exit unless bench_stop or bench_wait took care of it
#   bench_stop PID, bench_wait PID   stop it (TERM, then KILL after 10 s) / wait for its exit status
#   bench_on_exit FUNCTION     runs FUNCTION on exit, after the processes are stopped (last
#                              registered, first run)
#   cpu_ticks PID..., cpu_seconds TICKS   CPU time (user + system) of processes
#   field NAME LINE, ratio A B key=value parsing, A/B with two decimals
#   bench_line NAME VALUE UNIT [PEER PEER_VALUE]   prints a BENCH line (with the ratio if a peer)
#   require_seconds WHAT VALUE...  dies unless every VALUE is a whole number of seconds >= 1
#
# Everything a script starts is stopped on the way out, whatever the reason; the work directory is
# removed unless KEEP=1.

root=$PWD
bench_name="bench/$(basename "$0")"
keep=${KEEP:-0}
work=''
bench_pids=()
bench_exit_hooks=()

say() { printf '== %s\n' "$*" >&2; }
die() {
  printf '%s: %s\n' "$bench_name" "$*" >&2
  exit 1
}

taken_ports=" "
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12768))
    case "$taken_ports" in *" $port "*) continue ;; esac
    if [ -z "$(ss -Hltn "sport = :$port")" ]; then
      taken_ports+="$port "
      printf -v "$1" '%s' "$port"
      return
    fi
  done
  die "no free TCP port found"
}

wait_for_port() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; die "process $pid exited (log: $log)"; }
    sleep 0.1
  done
  tail -20 "$log" >&2
  die "nothing listens on port $port after 30 s (log: $log)"
}

bench_work_dir() {
  mkdir -p "$root/var/bench"
  chmod 755 "$root/var" "$root/var/bench"
  work=$(mktemp -d "$root/var/bench/$(basename "$0").XXXXXX")
  chmod 755 "$work"  # PostgreSQL runs as postgres and must reach its directory below
}

bench_spawn() {
  local var=$1 out=$2 err=$3 pid
  shift 3
  if [ "$out" = "$err" ]; then
    "$@" >"$out" 2>&1 &
  else
    "$@" >"$out" 2>"$err" &
  fi
  pid=$!
  bench_pids+=("$pid")
  printf -v "$var" '%s' "$pid"
}

bench_forget() {
  local pid=$1 kept=() p
  for p in "${bench_pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  bench_pids=("${kept[@]}")
}

bench_stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  bench_forget "$pid"
}

# bench_wait PID: returns PID's exit status.
bench_wait() {
  local pid=$1 status=0
  wait "$pid" || status=$?
  bench_forget "$pid"
  return "$status"
}

bench_on_exit() { bench_exit_hooks+=("$1"); }

bench_cleanup() {
  local status=$? i
  trap - EXIT INT TERM
  for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do bench_stop "${bench_pids[i]}"; done
  for ((i = ${#bench_exit_hooks[@]} - 1; i >= 0; i--)); do "${bench_exit_hooks[i]}" || status=1; done
  if [ -z "$work" ]; then
    :
  elif [ "$keep" = 1 ]; then
    echo "$bench_name: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}

bench_init() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# CPU time (clock ticks, user + system) used so far by the given processes. In /proc/PID/stat,
# after the ") " that ends the command name, utime and stime are the 12th and 13th fields and
# cutime and cstime (children that exited and were waited for) the 14th and 15th.
cpu_ticks() {
  local pid
  for pid in "$@"; do
    cat "/proc/$pid/stat" 2>/dev/null || true
  done | awk '{ sub(/^.*\) /, ""); ticks += $12 + $13 } END { print ticks + 0 }'
}
ticks_per_second=$(getconf CLK_TCK)
cpu_seconds() { awk -v t="$1" -v hz="$ticks_per_second" 'BEGIN { printf "%.1f", t / hz }'; }

# key=value from a line of results: field NAME LINE
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

# bench_line NAME VALUE UNIT [PEER PEER_VALUE]
bench_line() {
  local name=$1 value=$2 unit=$3 peer=${4:-} peer_value=${5:-}
  if [ -n "$peer" ]; then
    echo "BENCH name=$name value=$value unit=$unit peer=$peer peer_value=$peer_value ratio=$(ratio "$value" "$peer_value")"
  else
    echo "BENCH name=$name value=$value unit=$unit"
  fi
}

# Whole seconds >= 1, or die naming the variables.
require_seconds() {
  local what=$1 value
  shift
  for value in "$@"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || die "$what are whole seconds >= 1"
  done
}
