# bench/lib/postgres.sh: the benchmark's own PostgreSQL cluster (scripts/pg-cluster), in the work
# directory, stopped on exit. Sourced, not run.
#
#   bench_postgres_start    starts the cluster in $work/postgres on a free port; sets pg_dir,
#                           pg_port, app_url, owner_url (Keyline's roles), keyline_db (libpq
#                           string for psql on database keyline) and superuser_db
#   postgres_cpu_ticks      CPU ticks used so far by the whole PostgreSQL server
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
