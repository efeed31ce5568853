#!/usr/bin/env bash
# Reproduces the figures of BENCHMARKS.md on this machine: raw RS512
# signing, fedid on SQLite and PostgreSQL (known and new developer users, a
# mixed load), latency at 1 thousand, 100 thousand and 1 million
# identities, and moto's server measured with the same tool.
# Needs: go, PostgreSQL on 127.0.0.1:5432 (database test), python3 with moto.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/fedid-bench}
DUR=${DUR:-10s}
C=${C:-16}
mkdir -p "$OUT"
go build -o "$OUT/fedid" ./cmd/fedid
B="$OUT/fedid"
PORT=9650

busy() { curl -s -o /dev/null "http://127.0.0.1:$1/" && { echo "port $1 is taken: stop what listens there"; exit 1; }; true; }
serve() { # serve DB [flags...]; sets PID
  local db=$1; shift
  busy $PORT
  "$B" serve --addr 127.0.0.1:$PORT --db "$db" "$@" > "$OUT/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$OUT/serve.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
bench() { "$B" bench --endpoint http://127.0.0.1:$PORT -c "$C" --duration "$DUR" --server-pid "$PID" "$@" 2>/dev/null; }

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; go version
echo "== raw RS512 signing: OpenSSL direct calls (the default), OpenSSL cgo calls, Go"
"$B" bench --raw-sign --signer openssl
FEDID_SIGNER=openssl-cgo "$B" bench --raw-sign --signer openssl
"$B" bench --raw-sign --signer go

echo "== SQLite: known developer users (1,000)"
rm -f "$OUT"/s.db*; serve "$OUT/s.db"; bench --mix known=100; 
echo "== SQLite: a new developer user every request"; bench --mix new=100 --raw 0
echo "== SQLite: mixed load"; bench --mix known=80,new=10,getid=5,lookup=5 --raw 0; stop

echo "== SQLite: known users, net/http alone (--no-lane)"
rm -f "$OUT"/s.db*; serve "$OUT/s.db" --no-lane; bench --mix known=100; stop
echo "== SQLite: known users, OpenSSL through cgo calls (FEDID_SIGNER=openssl-cgo)"
rm -f "$OUT"/s.db*; FEDID_SIGNER=openssl-cgo serve "$OUT/s.db"; bench --mix known=100; stop

PG="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=fedid_bench"
psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS fedid_bench CASCADE; CREATE SCHEMA fedid_bench" >/dev/null 2>&1
echo "== PostgreSQL: known developer users"; serve "$PG"; bench --mix known=100
echo "== PostgreSQL: a new developer user every request"; bench --mix new=100 --raw 0; stop

for n in 1000 100000 1000000; do
  rm -f "$OUT"/size.db*
  echo "== size $n: seeding"
  "$B" seed --db "$OUT/size.db" --identities $n 2>/dev/null | tee "$OUT/seed.txt"
  POOL=$(sed -E 's/^pool ([^:]+:[^:]+):.*/\1/' "$OUT/seed.txt")
  serve "$OUT/size.db"
  echo "== size $n: known users"; bench --pool "$POOL" --dev-provider bench.login --users $n --skip-setup --mix known=100 --raw 0
  echo "== size $n: lookups"; bench --pool "$POOL" --dev-provider bench.login --users $n --skip-setup --mix lookup=100 --raw 0 --verify-every 0
  stop
done

echo "== moto's server, same tool, same load"
busy 5066
python3 -m moto.server -p 5066 > "$OUT/moto.log" 2>&1 &
MOTO=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:5066/moto-api/ >/dev/null && break; sleep 0.2; done
"$B" bench --endpoint http://127.0.0.1:5066 -c "$C" --duration "$DUR" --mix known=100 --verify-every 0 --raw 0 --server-pid $MOTO 2>/dev/null
kill $MOTO; wait $MOTO 2>/dev/null || true
