#!/usr/bin/env bash
# Start or stop a private MariaDB server for benchmarks and manual checks.
#   scripts/bench/mariadb_server.sh start DIR PORT   # mariadb-install-db DIR/data if needed, start on 127.0.0.1:PORT
#   scripts/bench/mariadb_server.sh stop DIR
# root's password is $MYSQL_PWD (default "bench"); the socket is DIR/mysqld.sock.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?directory}
as_root=()
[ "$(id -u)" = 0 ] && as_root=(--user=root)

case "$cmd" in
start)
  port=${3:?port}
  # A server's own tmpdir: each one deletes every #sql* file in its tmpdir
  # when it starts, which would break any other server sharing /tmp.
  mkdir -p "$dir/tmp"
  fresh=
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults "${as_root[@]}" --auth-root-authentication-method=normal \
      --skip-test-db --skip-name-resolve --datadir="$dir/data" --tmpdir="$dir/tmp" >"$dir/install.log" 2>&1
    fresh=1
  fi
  # The same settings serve every tool measured: a buffer pool that holds
  # the data set, and commits that do not wait for the disk.
  mariadbd --no-defaults "${as_root[@]}" --datadir="$dir/data" --tmpdir="$dir/tmp" --port="$port" \
    --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
    --log-error="$dir/error.log" --skip-name-resolve --log-bin="$dir/binlog" --server-id=1 \
    --innodb-buffer-pool-size=3G --innodb-log-file-size=1G --innodb-flush-log-at-trx-commit=2 \
    --max-allowed-packet=256M --local-infile=1 </dev/null >/dev/null 2>&1 &
  # A fresh server's root has no password yet.
  pw=(--password="${MYSQL_PWD:-bench}")
  [ -n "$fresh" ] && pw=(--skip-password)
  for _ in $(seq 600); do
    MYSQL_PWD= mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot "${pw[@]}" -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  if [ -n "$fresh" ]; then
    MYSQL_PWD= mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot --skip-password -e \
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
       GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
       ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '${MYSQL_PWD:-bench}';
       ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_PWD:-bench}';"
  fi
  ;;
stop)
  if [ -f "$dir/mysqld.pid" ]; then
    kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
    for _ in $(seq 300); do [ -f "$dir/mysqld.pid" ] || break; sleep 0.2; done
  fi
  ;;
*)
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
  ;;
esac
