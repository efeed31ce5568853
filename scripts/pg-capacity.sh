#!/usr/bin/env bash
# PostgreSQL's side of the capacity model (docs/capacity.md): how many of
# fedid's statements one PostgreSQL serves, measured with pgbench on fedid's
# own schema and statements. Seeds a schema with `fedid seed` (N identities,
# default 100 k), then runs for DUR seconds each, with C clients, prepared:
#   lookup - the login lookup of a token whose login is not in fedid's
#            cache (FindLogin);
#   new    - a new developer user: the identity and its login in one
#            statement (InsertIdentityLogin);
#   epoch  - the read every fedid instance makes every 5 ms (login_epoch).
# Needs: go, pgbench and psql, PostgreSQL on 127.0.0.1:5432 (database test).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/fedid-pgcap}
N=${N:-100000}
DUR=${DUR:-10}
C=${C:-16}
J=${J:-2}
SCHEMA=fedid_pgcap
mkdir -p "$OUT"
go build -o "$OUT/fedid" ./cmd/fedid
export PGOPTIONS="-c client_min_messages=warning -c search_path=$SCHEMA"
PSQL=(psql -h 127.0.0.1 -U postgres -d test -qAt)
"${PSQL[@]}" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA"
"$OUT/fedid" seed --db "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=$SCHEMA" --identities "$N" 2>/dev/null
# The pool's ID goes in as a pgbench variable: inside the SQL, its colon
# would read as one.
POOL=$("${PSQL[@]}" -c "SELECT id FROM pools LIMIT 1")

cat > "$OUT/lookup.sql" <<EOF
\set u random(0, $((N - 1)))
SELECT p.region, l.identity FROM pools p JOIN logins l ON l.pool_num = p.num
  WHERE p.id = :pool AND l.provider = 'bench.login' AND l.key = 'user-' || CAST(:u AS text);
EOF
cat > "$OUT/new.sql" <<EOF
WITH i AS (INSERT INTO identities (id, pool_num, authenticated, disabled, created_ns, modified_after_ns)
    SELECT decode(replace(gen_random_uuid()::text, '-', ''), 'hex'), num, TRUE, FALSE, 1, 0
    FROM pools WHERE id = :pool AND region = 'us-east-1' RETURNING id, pool_num)
INSERT INTO logins (pool_num, provider, key, identity, developer, linked_ns)
SELECT pool_num, 'bench.login', gen_random_uuid()::text, id, TRUE, 1 FROM i;
EOF
echo 'SELECT n FROM login_epoch;' > "$OUT/epoch.sql"

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; "${PSQL[@]}" -c 'SELECT version()'
for s in lookup new epoch; do
  echo "== $s ($N identities, $C clients, $DUR s, prepared)"
  pgbench -h 127.0.0.1 -U postgres -n -M prepared -D pool="$POOL" -c "$C" -j "$J" -T "$DUR" -f "$OUT/$s.sql" test 2>&1 |
    grep -E '^(tps|latency average|number of transactions actually processed|pgbench: error)'
done
"${PSQL[@]}" -c "DROP SCHEMA $SCHEMA CASCADE"
