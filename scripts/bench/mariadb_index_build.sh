#!/usr/bin/env bash
# Whether building secondary indexes after the load is faster than loading
# into a table that has them, the way a restore loads (LOAD DATA LOCAL with
# foreign_key_checks = 0 and unique_checks = 0, into an empty table), on the
# orders table of scripts/bench-mariadb's data set.
#   scripts/bench/mariadb_index_build.sh [DB]    # default bench_real_1024mb
# Needs the benchmark's server running (scripts/bench/mariadb_server.sh
# start "$PWD/target/bench-mariadb/server" 53306, MYSQL_PWD=bench).
set -euo pipefail
db=${1:-bench_real_1024mb}
port=${BENCH_PORT:-53306}
export MYSQL_PWD=${MYSQL_PWD:-bench}
m=(mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot --local-infile=1)
file=$(mktemp -d)/orders.txt
trap 'rm -rf "$(dirname "$file")"; "${m[@]}" -e "DROP DATABASE IF EXISTS sqlvault_ix_bench"' EXIT
"${m[@]}" "$db" -e "SELECT * FROM orders" --batch --skip-column-names --raw >"$file"
"${m[@]}" -e "CREATE DATABASE IF NOT EXISTS sqlvault_ix_bench"
q() { "${m[@]}" sqlvault_ix_bench -e "SET SESSION foreign_key_checks = 0, unique_checks = 0, sql_log_bin = 0; $1"; }
secs() { local t0 t1; t0=$(date +%s.%N); q "$1"; t1=$(date +%s.%N); python3 -c "print(f'{$t1 - $t0:.2f}')"; }
keys=$("${m[@]}" -N -e "SELECT GROUP_CONCAT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = 'orders' AND INDEX_NAME <> 'PRIMARY'")
adds=$("${m[@]}" -N -e "SELECT GROUP_CONCAT(CONCAT('ADD KEY ', INDEX_NAME, ' (', COLS, ')')) FROM (SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) COLS FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = 'orders' AND INDEX_NAME <> 'PRIMARY' GROUP BY INDEX_NAME) k")
drops=$(echo "$keys" | sed 's/\([^,]*\)/DROP INDEX \1/g')
for round in 1 2; do
  q "DROP TABLE IF EXISTS with_keys, keys_after; CREATE TABLE with_keys LIKE \`$db\`.orders; CREATE TABLE keys_after LIKE \`$db\`.orders; ALTER TABLE keys_after $drops"
  a=$(secs "LOAD DATA LOCAL INFILE '$file' INTO TABLE with_keys")
  b1=$(secs "LOAD DATA LOCAL INFILE '$file' INTO TABLE keys_after")
  b2=$(secs "ALTER TABLE keys_after $adds")
  echo "round $round: load with the indexes: $a s; load without them: $b1 s, then ADD INDEX: $b2 s (together $(python3 -c "print(f'{$b1 + $b2:.2f}')") s)"
done
