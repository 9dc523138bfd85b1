#!/usr/bin/env bash
# Start or stop a private PostgreSQL cluster for benchmarks and manual checks.
#   scripts/bench/pg_cluster.sh start DIR PORT   # initdb DIR/data if needed, start on 127.0.0.1:PORT
#   scripts/bench/pg_cluster.sh stop DIR
# The superuser is `postgres` with password $PGPASSWORD (default "bench").
# As root, the server runs as the `postgres` user (PostgreSQL refuses root).
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi

case "$cmd" in
start)
  port=${3:?port}
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pw=$(mktemp)
    printf '%s' "${PGPASSWORD:-bench}" >"$pw"
    chmod 644 "$pw"
    "${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 -N \
      --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pw" >/dev/null
    rm -f "$pw"
  fi
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 120 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_wal_size=8GB -c maintenance_work_mem=256MB -c checkpoint_timeout=30min -c lc_messages=C" \
    start >/dev/null
  ;;
stop)
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
  ;;
esac
