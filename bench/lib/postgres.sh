# bench/lib/postgres.sh: the benchmark's own PostgreSQL cluster (scripts/pg-cluster), in the work
# directory, stopped on exit. Sourced, not run.
#
#   bench_postgres_start    starts the cluster in $work/postgres on a free port; sets pg_dir,
#                           pg_port, app_url, owner_url (Keyline's roles), keyline_db (libpq
#                           string for psql on database keyline) and superuser_db
#   postgres_cpu_ticks      CPU ticks used so far by the whole PostgreSQL server
#   postgres_quiesce        VACUUM (ANALYZE) of every database, before a measured window
#   postgres_statement_stats_enable   restarts the cluster with pg_stat_statements loaded
#   postgres_statement_stats_reset    forgets what it counted so far
#   postgres_statement_stats_report DB N   the statements that took PostgreSQL longest in
#                           database DB since the reset, in us per operation of N operations
#   "${psql[@]}" DB ...     psql that stops at the first error, quietly

psql=(psql -X -q -v ON_ERROR_STOP=1)
pg_dir=''

bench_postgres_stop() {
  if [ -n "$pg_dir" ] && [ -f "$pg_dir/data/PG_VERSION" ]; then
    scripts/pg-cluster stop "$pg_dir"
  fi
}

bench_postgres_start() {
  pg_dir=$work/postgres
  pg_port=''
  free_port pg_port
  bench_on_exit bench_postgres_stop
  say "PostgreSQL cluster in $pg_dir (port $pg_port)"
  scripts/pg-cluster start "$pg_dir" "$pg_port"
  app_url=$(scripts/pg-cluster url "$pg_dir" "$pg_port" app)
  owner_url=$(scripts/pg-cluster url "$pg_dir" "$pg_port" owner)
  keyline_db="host=$pg_dir/run port=$pg_port dbname=keyline user=postgres"
  superuser_db=$(scripts/pg-cluster url "$pg_dir" "$pg_port" superuser)
  # No checkpoint inside a run: a timed one (5 min by default) would land in whichever window
  # happens to be open then, with its writes and a burst of full-page images after it, and make
  # that tool's figure depend on the clock. A whole run writes far less WAL than max_wal_size.
  "${psql[@]}" "$superuser_db" -c "ALTER SYSTEM SET checkpoint_timeout = '1h'" \
    -c "SELECT pg_reload_conf()" >/dev/null
}

# The maintenance the previous phase left behind (registering 50,000 devices, another tool's
# inserts) would otherwise be done by autovacuum during the next measured window, on the same two
# cores, and count against whichever tool is measured then. Vacuuming first gives every window the
# same start: what a database that autovacuum keeps up with looks like.
postgres_quiesce() {
  local started=$SECONDS
  vacuumdb --all --analyze --quiet -h "$pg_dir/run" -p "$pg_port" -U postgres ||
    die "vacuumdb failed"
  echo "  database vacuumed before the measured window ($((SECONDS - started)) s)" >&2
}

# The postmaster with its exited children (backends that ended, e.g. connections cfssl closed)
# plus its children still running.
postgres_cpu_ticks() {
  local postmaster pid
  postmaster=$(head -1 "$pg_dir/data/postmaster.pid")
  {
    printf 'postmaster '
    cat "/proc/$postmaster/stat"
    for pid in $(pgrep -P "$postmaster" || true); do cat "/proc/$pid/stat" 2>/dev/null || true; done
  } | awk '{ postmaster = ($1 == "postmaster"); sub(/^.*\) /, "")
             ticks += $12 + $13; if (postmaster) ticks += $14 + $15 }
           END { print ticks + 0 }'
}

# Where PostgreSQL's time goes, statement by statement (PERF=1 of the benchmarks that use it).
# Not on by default: the extension itself costs a little on every statement. What it counts is
# execution: Bind (parameter parsing), ExecutorStart and commit are outside it, so the total is
# well below PostgreSQL's CPU. Immediate foreign-key checks count toward their statement;
# deferred ones run at COMMIT and appear as statements of their own.
postgres_statement_stats_enable() {
  "${psql[@]}" "$superuser_db" \
    -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  scripts/pg-cluster stop "$pg_dir"
  scripts/pg-cluster start "$pg_dir" "$pg_port"
  "${psql[@]}" "$superuser_db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

postgres_statement_stats_reset() {
  "${psql[@]}" "$superuser_db" -tAc "SELECT pg_stat_statements_reset()" >/dev/null
}

postgres_statement_stats_report() {
  local database=$1 operations=$2
  [ "$operations" -gt 0 ] || return 0
  echo "    PostgreSQL execution time by statement (pg_stat_statements), per operation:" >&2
  "${psql[@]}" "$superuser_db" -tA -F $'\t' -v db="$database" -v n="$operations" <<'SQL' |
SELECT round((sum(s.total_exec_time) OVER () * 1000 / :n)::numeric, 1), s.calls, s.rows,
       round((s.total_exec_time * 1000 / :n)::numeric, 1),
       left(regexp_replace(s.query, '\s+', ' ', 'g'), 110)
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = :'db'
ORDER BY s.total_exec_time DESC LIMIT 8
SQL
    awk -F'\t' 'NR == 1 { printf "    %8s us in all statements\n", $1 }
                 { printf "    %8s us  %7d calls  %7d rows  %s\n", $4, $2, $3, $5 }' >&2
}
