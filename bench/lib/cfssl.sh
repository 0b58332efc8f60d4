# bench/lib/cfssl.sh: the peer of the issuance benchmarks, `cfssl serve` (ECDSA P-256 CA, signing
# profile bench/cfssl/signing.json) loaded with wrk (bench/cfssl/sign.lua), with its PostgreSQL
# certdb in the benchmark's cluster or without a database. Sourced, not run; needs
# bench_postgres_start first.
#
#   cfssl_prepare CSR_COMMAND...  makes the CA and the certdb; CSR_COMMAND, with a file name
#                           appended, must write the PEM CSRs wrk sends (cycled through)
#   cfssl_measure_pg        cfssl with its certdb; sets pg_rate, pg_connections, pg_p50, pg_p99
#   cfssl_measure_nodb      cfssl without a database; sets nodb_rate, nodb_connections, nodb_p50,
#                           nodb_p99
#
# Each loads cfssl at every connection count of WRK_CONNECTIONS (warm-up, then measurement, the
# durations of $warmup and $duration) and keeps the best valid one: a connection count with any
# failed request, or (with the database) fewer new rows than certificates answered, is reported
# and not counted. CPU of cfssl (and PostgreSQL) is reported for each.
#
# Environment (defaults in brackets):
#   WRK_THREADS [2]                wrk threads
#   WRK_CONNECTIONS ["2 4 16 64"]  wrk connection counts tried for each cfssl variant
#   CFSSL_LOGLEVEL [2]             cfssl -loglevel (2 = warnings: no log line per request)

wrk_threads=${WRK_THREADS:-2}
wrk_connections=${WRK_CONNECTIONS:-2 4 16 64}
cfssl_loglevel=${CFSSL_LOGLEVEL:-2}
cfssl_pid=''

cfssl_prepare() {
  cfssl_port=''
  free_port cfssl_port
  say "cfssl: CA (ECDSA P-256), signing profile, certdb in the same cluster"
  cfssl_dir=$work/cfssl
  mkdir -p "$cfssl_dir"
  (cd "$cfssl_dir" && cfssl genkey -initca "$root/bench/cfssl/ca-csr.json" 2>genkey.log | cfssljson -bare ca) ||
    die "cfssl genkey -initca failed (log: $cfssl_dir/genkey.log)"
  "$@" "$cfssl_dir/csrs.pem"
  "${psql[@]}" "$superuser_db" <<'SQL'
CREATE ROLE cfssl LOGIN;
CREATE DATABASE cfssl OWNER cfssl;
SQL
  cfssl_db="host=$pg_dir/run port=$pg_port dbname=cfssl user=cfssl"
  "${psql[@]}" "$cfssl_db" -f "$root/bench/cfssl/certdb.sql"
  cat >"$cfssl_dir/db.json" <<JSON
{"driver": "postgres", "data_source": "postgres://cfssl@127.0.0.1:$pg_port/cfssl?sslmode=disable"}
JSON
}

# wrk_run LABEL CONNECTIONS SECONDS PHASE: one wrk run against cfssl; prints its cfssl_load line.
wrk_run() {
  local label=$1 connections=$2 seconds=$3 phase=$4
  local out=$work/wrk-$label-c$connections-$phase.out
  # --timeout 30s: the deadline the Keyline load generators give each RPC.
  CSR_FILE=$cfssl_dir/csrs.pem wrk -t "$wrk_threads" -c "$connections" -d "${seconds}s" --timeout 30s \
    -s "$root/bench/cfssl/sign.lua" "http://127.0.0.1:$cfssl_port" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed"; }
  grep '^cfssl_load:' "$out" || { cat "$out" >&2; die "wrk printed no result"; }
}

# run_cfssl LABEL [DB_CONFIG]: starts cfssl serve, loads it with wrk at each connection count,
# stops it. Sets best_rate, best_connections, best_p50, best_p99 from the best valid count.
run_cfssl() {
  local label=$1 db_config=${2:-}
  local args=(-address 127.0.0.1 -port "$cfssl_port" -ca "$cfssl_dir/ca.pem"
              -ca-key "$cfssl_dir/ca-key.pem" -config "$root/bench/cfssl/signing.json"
              -loglevel "$cfssl_loglevel")
  [ -z "$db_config" ] || args+=(-db-config "$db_config")
  bench_spawn cfssl_pid "$work/cfssl-$label.log" "$work/cfssl-$label.log" cfssl serve "${args[@]}"
  wait_for_port "$cfssl_port" "$cfssl_pid" "$work/cfssl-$label.log"
  best_rate=0 best_connections='' best_p50='' best_p99=''
  local connections warm line rows_before=0 rows_after stored answered failed rate cpu
  local cpu_before cpu_pg_before
  for connections in $wrk_connections; do
    [ -z "$db_config" ] || postgres_quiesce
    [ -z "$db_config" ] || rows_before=$("${psql[@]}" "$cfssl_db" -tAc "SELECT count(*) FROM certificates")
    cpu_before=$(cpu_ticks "$cfssl_pid")
    cpu_pg_before=$(postgres_cpu_ticks)
    warm=$(wrk_run "$label" "$connections" "$warmup" warmup)
    line=$(wrk_run "$label" "$connections" "$duration" measure)
    cpu="cfssl $(cpu_seconds $(($(cpu_ticks "$cfssl_pid") - cpu_before))) s"
    [ -z "$db_config" ] ||
      cpu+=", postgres $(cpu_seconds $(($(postgres_cpu_ticks) - cpu_pg_before))) s"
    failed=$(($(field failed "$warm") + $(field failed "$line") +
              $(field socket_errors "$warm") + $(field socket_errors "$line")))
    rate=$(awk -v n="$(field ok "$line")" -v s="$(field seconds "$line")" 'BEGIN { printf "%.1f", n / s }')
    echo "  wrk -t$wrk_threads -c$connections: $rate certs/s  ${line#cfssl_load: }" >&2
    echo "    CPU over $((warmup + duration)) s: $cpu" >&2
    if [ "$failed" != 0 ]; then
      echo "    $failed failed requests (warm-up and measurement): not a valid figure, not counted" >&2
      continue
    fi
    if [ -n "$db_config" ]; then
      sleep 1  # let requests that were in flight when wrk stopped finish their INSERT
      rows_after=$("${psql[@]}" "$cfssl_db" -tAc "SELECT count(*) FROM certificates")
      stored=$((rows_after - rows_before))
      answered=$(($(field ok "$warm") + $(field ok "$line")))
      echo "    durability: certificates table grew by $stored rows for $answered successful requests" >&2
      if [ "$stored" -lt "$answered" ]; then
        echo "    fewer rows than certificates answered: not a valid figure, not counted" >&2
        continue
      fi
    fi
    if awk -v a="$rate" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then
      best_rate=$rate best_connections=$connections
      best_p50=$(field p50_ms "$line") best_p99=$(field p99_ms "$line")
    fi
  done
  bench_stop "$cfssl_pid"
  cfssl_pid=''
  [ -n "$best_connections" ] || die "cfssl $label: no valid run (logs in $work)"
}

cfssl_measure_pg() {
  say "cfssl serve with its PostgreSQL certdb (wrk -t$wrk_threads, connections: $wrk_connections)"
  run_cfssl pg "$cfssl_dir/db.json"
  pg_rate=$best_rate pg_connections=$best_connections pg_p50=$best_p50 pg_p99=$best_p99
  echo "  certdb: $("${psql[@]}" "$cfssl_db" -tAc "SELECT count(*) FROM certificates") rows; one of them:" >&2
  "${psql[@]}" "$cfssl_db" -tA -F ' | ' -c "SELECT 'serial ' || encode(serial_number, 'escape'),
      'aki ' || encode(authority_key_identifier, 'escape'), 'status ' || encode(status, 'escape'),
      'expiry ' || expiry, length(pem) || ' bytes of PEM' FROM certificates LIMIT 1" | sed 's/^/    /' >&2
}

cfssl_measure_nodb() {
  say "cfssl serve without a database (wrk -t$wrk_threads, connections: $wrk_connections)"
  run_cfssl nodb
  nodb_rate=$best_rate nodb_connections=$best_connections nodb_p50=$best_p50 nodb_p99=$best_p99
}
