#!/usr/bin/env bash
# Reproduces the figures of BENCHMARKS.md on this machine, in one run:
# raw RS512 signing; known developer users on SQLite with the code before
# "trust the wire" (6b0a109: its own HTTP lane and direct libcrypto calls),
# that code as net/http + plain cgo calls, and the current code; new users
# and a mixed load; PostgreSQL; moto's server with the same tool; and last,
# speed at scale (scripts/scale.sh): 1 k, 100 k, 1 M and 10 M identities
# seeded with `fedid seed`, known and new users at each size, PostgreSQL,
# the ratios of issue 18's targets and a CPU profile at the largest size.
# Needs: go, git (the history, for the "before" build), PostgreSQL on
# 127.0.0.1:5432 (database test), python3 with moto.
# DUR (10s), C (16), BEFORE (6b0a109), ROUNDS (2: the three SQLite servers
# are measured in turn, ROUNDS times); SIZES ("1000 100000 1000000
# 10000000") and SCALE_DUR (8s) go to scale.sh, SCALE=0 skips it.
# Time: about 8 minutes on 2 cores, 3 of them seeding 10 M identities;
# disk: about 2 GB at 10 M, deleted after.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/fedid-bench}
DUR=${DUR:-10s}
C=${C:-16}
SIZES=${SIZES:-1000 100000 1000000 10000000}
BEFORE=${BEFORE:-6b0a109}
ROUNDS=${ROUNDS:-2}
mkdir -p "$OUT"
go build -o "$OUT/fedid" ./cmd/fedid
B="$OUT/fedid"
if [ ! -x "$OUT/fedid-before" ]; then
  rm -rf "$OUT/before-src"
  git worktree add --detach "$OUT/before-src" "$BEFORE" >/dev/null 2>&1 || git worktree add --force --detach "$OUT/before-src" "$BEFORE"
  (cd "$OUT/before-src" && go build -o "$OUT/fedid-before" ./cmd/fedid)
  git worktree remove --force "$OUT/before-src"
fi
PORT=9650

busy() { curl -s -o /dev/null "http://127.0.0.1:$1/" && { echo "port $1 is taken: stop what listens there"; exit 1; }; true; }
serve() { # serve BINARY DB [flags...]; sets PID
  local bin=$1 db=$2; shift 2
  busy $PORT
  "$bin" serve --addr 127.0.0.1:$PORT --db "$db" "$@" > "$OUT/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$OUT/serve.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
bench() { "$B" bench --endpoint http://127.0.0.1:$PORT -c "$C" --duration "$DUR" --server-pid "$PID" "$@" 2>/dev/null; }

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; go version
echo "== raw RS512 signing: OpenSSL (cgo calls), Go's crypto/rsa"
"$B" bench --raw-sign --signer openssl
"$B" bench --raw-sign --signer go

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: SQLite, known users (1,000): before ($BEFORE: its lane and direct libcrypto calls)"
  rm -f "$OUT"/s.db*; serve "$OUT/fedid-before" "$OUT/s.db"; bench --mix known=100; stop
  echo "== round $round: SQLite, known users (1,000): before as net/http + plain cgo calls (--no-lane, FEDID_SIGNER=openssl-cgo)"
  rm -f "$OUT"/s.db*; FEDID_SIGNER=openssl-cgo serve "$OUT/fedid-before" "$OUT/s.db" --no-lane; bench --mix known=100; stop
  echo "== round $round: SQLite, known users (1,000): final"
  rm -f "$OUT"/s.db*; serve "$B" "$OUT/s.db"; bench --mix known=100; stop
done

echo "== final, SQLite: a new developer user every request"
rm -f "$OUT"/s.db*; serve "$B" "$OUT/s.db"; bench --mix new=100 --raw 0
echo "== final, SQLite: mixed load"; bench --mix known=80,new=10,getid=5,lookup=5 --raw 0; stop

PG="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=fedid_bench"
psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS fedid_bench CASCADE; CREATE SCHEMA fedid_bench" >/dev/null 2>&1
echo "== final, PostgreSQL: known developer users"; serve "$B" "$PG"; bench --mix known=100
echo "== final, PostgreSQL: a new developer user every request"; bench --mix new=100 --raw 0; stop

echo "== moto's server, same tool, same load"
busy 5066
python3 -m moto.server -p 5066 > "$OUT/moto.log" 2>&1 &
MOTO=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:5066/moto-api/ >/dev/null && break; sleep 0.2; done
"$B" bench --endpoint http://127.0.0.1:5066 -c "$C" --duration "$DUR" --mix known=100 --verify-every 0 --raw 0 --server-pid $MOTO 2>/dev/null
kill $MOTO; wait $MOTO 2>/dev/null || true

if [ "${SCALE:-1}" = 1 ]; then
  echo
  echo "== speed at scale (scripts/scale.sh)"
  OUT="$OUT/scale" DUR="${SCALE_DUR:-8s}" C="$C" SIZES="$SIZES" bash scripts/scale.sh
fi
