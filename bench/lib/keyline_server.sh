# bench/lib/keyline_server.sh: a keyline-server for a benchmark, with its SoftHSM2 token, state
# and database in the work directory and the cluster of bench_postgres_start. Sourced, not run.
#
#   keyline_start           writes $work/keyline.yaml (deployment "bench", hosted manufacturer
#                           "keyline"), runs `keyline-server init` and `serve`, waits for gRPC;
#                           sets grpc_port, server_pid, state (its state directory, where
#                           tls/ca.crt and the bootstrap admin's admin/admin.{crt,key} are)
#   keyline_serve           starts `serve` again with the same configuration and state (after
#                           keyline_stop), waits for gRPC; sets server_pid
#   keyline_issue_operator ROLE NAME KEY CERT
#                           issues an operator certificate with keylinectl as the bootstrap
#                           admin, writing the key and the PEM chain to KEY and CERT
#   keyline_stop            stops the server (it is stopped on exit anyway)
#   keyline_cpu_summary SERVER_TICKS PG_TICKS LOAD_SECONDS SECONDS [OPERATIONS]
#                           "keyline-server X s, postgres Y s, load generator Z s of CPU over N s",
#                           and with OPERATIONS (what was answered in those N s) the same per
#                           operation in microseconds: comparable across machines of different
#                           speed, where the rates are not
#
# keyline_status_yaml, when set before keyline_start, holds more keys of the status: section
# (YAML lines indented by two spaces, e.g. "  threads: 2"), for the benchmarks of that listener.
#
# Environment, for every benchmark that starts a keyline-server (server defaults when unset):
#   GROUP_COMMIT_WAIT_US, GROUP_COMMIT_TARGET   database.group_commit_wait_microseconds and
#                           database.group_commit_target (README); GROUP_COMMIT_WAIT_US=0 measures
#                           the issuance writer without its fill wait

server_pid=''
keyline_status_yaml=${keyline_status_yaml:-}
keyline_database_yaml=''
[ -z "${GROUP_COMMIT_WAIT_US:-}" ] ||
  keyline_database_yaml+="  group_commit_wait_microseconds: $GROUP_COMMIT_WAIT_US"$'\n'
[ -z "${GROUP_COMMIT_TARGET:-}" ] ||
  keyline_database_yaml+="  group_commit_target: $GROUP_COMMIT_TARGET"$'\n'

keyline_start() {
  grpc_port=''
  free_port grpc_port
  status_port=''
  free_port status_port
  say "Keyline: keyline-server init and serve (gRPC on 127.0.0.1:$grpc_port)"
  cat >"$work/keyline.yaml" <<YAML
# Written by $bench_name. Paths are relative to this file's directory.
state_dir: state
organization: Keyline Bench
public_base_url: http://127.0.0.1:$status_port
hsm:
  module: /usr/lib/softhsm/libsofthsm2.so
  token: keyline
  pin_source: file:hsm/user.pin
database:
  url: "$app_url"
  migration_url: "$owner_url"
${keyline_database_yaml}grpc:
  listen: 127.0.0.1:$grpc_port
status:
  listen: 127.0.0.1:$status_port
$keyline_status_yaml
ca:
  deployments: [bench]
  manufacturers: [keyline]
YAML
  "$server" --config "$work/keyline.yaml" init >"$work/keyline-init.log" 2>&1 ||
    { tail -20 "$work/keyline-init.log" >&2; die "keyline-server init failed (log: $work/keyline-init.log)"; }
  keyline_serve
  state=$work/state
}

keyline_serve() {
  bench_spawn server_pid "$work/keyline-server.log" "$work/keyline-server.log" \
    "$server" --config "$work/keyline.yaml" serve
  wait_for_port "$grpc_port" "$server_pid" "$work/keyline-server.log"
}

keyline_issue_operator() {
  local role=$1 name=$2 key=$3 cert=$4
  "$keylinectl" --server "localhost:$grpc_port" --ca "$state/tls/ca.crt" \
    --cert "$state/admin/admin.crt" --key "$state/admin/admin.key" \
    operator issue --role "$role" --name "$name" --out-key "$key" \
    --out-cert "$cert" 2>"$work/keylinectl.log" ||
    { cat "$work/keylinectl.log" >&2; die "keylinectl could not issue a certificate"; }
}

keyline_stop() {
  bench_stop "$server_pid"
  server_pid=''
}

keyline_cpu_summary() {
  local server_ticks=$1 pg_ticks=$2 load_seconds=$3 seconds=$4 operations=${5:-0}
  echo -n "keyline-server $(cpu_seconds "$server_ticks") s, postgres $(cpu_seconds "$pg_ticks") s, load generator $(awk -v s="$load_seconds" 'BEGIN { printf "%.1f", s }') s of CPU over $seconds s"
  if [ "$operations" -gt 0 ]; then
    awk -v s="$server_ticks" -v p="$pg_ticks" -v l="$load_seconds" -v hz="$ticks_per_second" \
      -v n="$operations" 'BEGIN { printf "; per operation: server %.0f us, postgres %.0f us, load generator %.0f us", \
        s / hz / n * 1e6, p / hz / n * 1e6, l / n * 1e6 }'
  fi
  echo
}
