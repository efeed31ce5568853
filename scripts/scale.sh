#!/usr/bin/env bash
# Speed at scale, in one run: for each pool size (SIZES, default 1 k, 100 k,
# 1 M and 10 M identities with one developer login each), seed a fresh
# SQLite store with `fedid seed`, then load it with `fedid bench`:
# known developer users drawn at random, and a new developer user every
# request. Reports tokens/s, p50/p99, the server's CPU per token, the
# seeding rate and the store's size on disk; the bare RS512 signature of the
# same run; PostgreSQL's known and new users at the smallest size; and a CPU
# profile of the known-user load at the largest size.
#
# Needs: go, python3, PostgreSQL on 127.0.0.1:5432 (database test) unless
# PG=0. Disk: about 2 GB at 10 M identities (the store is deleted after
# each size unless KEEP=1). Time: about 5 minutes with the defaults on 2
# cores, 3 of them seeding 10 M identities.
# DUR (8s), C (16), SIZES ("1000 100000 1000000 10000000"), OUT
# (/tmp/fedid-scale), PG (1), PROFILE (1).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/fedid-scale}
DUR=${DUR:-8s}
C=${C:-16}
SIZES=${SIZES:-1000 100000 1000000 10000000}
PG=${PG:-1}
PROFILE=${PROFILE:-1}
mkdir -p "$OUT"
go build -o "$OUT/fedid" ./cmd/fedid
B="$OUT/fedid"
PORT=${PORT:-9660}
DEBUG=127.0.0.1:$((PORT + 1))

serve() { # serve DB [flags...]; sets PID
  local db=$1; shift
  "$B" serve --addr 127.0.0.1:$PORT --db "$db" --debug-addr "$DEBUG" "$@" > "$OUT/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$OUT/serve.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
bench() { # bench NAME [bench flags...]: the JSON summary in $OUT/NAME.json
  local name=$1; shift
  "$B" bench --endpoint http://127.0.0.1:$PORT -c "$C" --duration "$DUR" --server-pid "$PID" --json "$@" > "$OUT/$name.json" 2>"$OUT/$name.err"
}
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' "$@"; }

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; go version; "$B" version | tail -1
echo "== bare RS512 signatures (fedid's signer, every core)"
"$B" bench --raw-sign | tee "$OUT/raw.txt"

printf '\n%-10s %10s %9s %9s %8s %8s %12s %12s %12s %10s\n' identities seed/s seed_s store_MB B/ident tokens/s p50_ms p99_ms cpu_us/known cpu_us/new | tee "$OUT/table.txt"
last=""
: > "$OUT/sizes.txt"
for n in $SIZES; do
  rm -f "$OUT"/size.db*
  start=$(date +%s.%N)
  "$B" seed --db "$OUT/size.db" --identities "$n" > "$OUT/seed.txt" 2>&1
  secs=$(python3 -c "import time; print(round(time.time() - $start, 1))")
  POOL=$(sed -nE 's/^pool ([^:]+:[^:]+):.*/\1/p' "$OUT/seed.txt")
  # The store as seeded (the loads below add identities to it).
  size=$(du -cb "$OUT"/size.db* | tail -1 | cut -f1)
  serve "$OUT/size.db"
  bench "known-$n" --pool "$POOL" --dev-provider bench.login --users "$n" --skip-setup --mix known=100 --raw 0
  if [ "$PROFILE" = 1 ] && [ "$n" = "${SIZES##* }" ]; then
    curl -s -o "$OUT/cpu-$n.pprof" "http://$DEBUG/debug/pprof/profile?seconds=6" &
    prof=$!
    bench "known-profiled-$n" --pool "$POOL" --dev-provider bench.login --users "$n" --skip-setup --mix known=100 --raw 0
    wait $prof
    go tool pprof -top -nodecount=25 "$B" "$OUT/cpu-$n.pprof" > "$OUT/profile-$n.txt" 2>/dev/null || true
  fi
  bench "new-$n" --pool "$POOL" --dev-provider bench.login --skip-setup --mix new=100 --raw 0 --verify-every 0
  stop
  echo "$n $secs $size" >> "$OUT/sizes.txt"
  printf '%-10s %10s %9s %9.0f %8.0f %8.0f %12.2f %12.2f %12.0f %10.0f\n' "$n" \
    "$(python3 -c "print(round($n / max($secs, 0.001)))")" "$secs" "$(python3 -c "print($size / 1e6)")" \
    "$(python3 -c "print($size / $n)")" \
    "$(field "$OUT/known-$n.json" requests_per_second)" "$(field "$OUT/known-$n.json" 'latency["p50_ms"]')" \
    "$(field "$OUT/known-$n.json" 'latency["p99_ms"]')" "$(field "$OUT/known-$n.json" server_cpu_us_per_request)" \
    "$(field "$OUT/new-$n.json" server_cpu_us_per_request)" | tee -a "$OUT/table.txt"
  [ "${KEEP:-0}" = 1 ] || rm -f "$OUT"/size.db*
  last=$n
done

if [ "$PG" = 1 ]; then
  PGURL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=fedid_scale"
  PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS fedid_scale CASCADE; CREATE SCHEMA fedid_scale" >/dev/null
  serve "$PGURL"
  bench pg-known --mix known=100 --raw 0
  bench pg-new --mix new=100 --raw 0 --verify-every 0
  stop
  printf '\n%-22s %10s %12s\n' PostgreSQL tokens/s cpu_us/token | tee -a "$OUT/table.txt"
  for k in known new; do
    printf '%-22s %10.0f %12.0f\n' "$k developer users" "$(field "$OUT/pg-$k.json" requests_per_second)" \
      "$(field "$OUT/pg-$k.json" server_cpu_us_per_request)" | tee -a "$OUT/table.txt"
  done
fi
# The targets of issue 18, as ratios of this run's own figures.
echo; echo "== against the targets (ratios of this run)"
python3 - "$OUT" "$PG" <<'PY' | tee -a "$OUT/table.txt"
import json, re, sys
out, pg = sys.argv[1], sys.argv[2] == "1"
j = lambda name: json.load(open(f"{out}/{name}.json"))
bare = float(re.search(r"([0-9.]+) µs CPU per signature", open(f"{out}/raw.txt").read()).group(1))
sizes = [line.split() for line in open(f"{out}/sizes.txt")]
first = sizes[0][0]
k0 = j(f"known-{first}")
print(f"bare RS512 signature: {bare:.0f} µs of CPU")
for n, secs, size in sizes:
    k, new = j(f"known-{n}"), j(f"new-{n}")
    line = f"{int(n):>10,} identities:"
    if n != first:
        line += (f" CPU/known token {k['server_cpu_us_per_request'] / k0['server_cpu_us_per_request']:.2f}x the {int(first):,}'s,"
                 f" tokens/s {k['requests_per_second'] / k0['requests_per_second']:.2f}x,")
    line += f" new user {new['server_cpu_us_per_request'] / k['server_cpu_us_per_request']:.2f}x a known one,"
    line += f" {int(size) / int(n):.0f} bytes/identity, seeded in {float(secs):.0f} s"
    print(line)
if pg:
    k, new = j("pg-known"), j("pg-new")
    print(f"PostgreSQL: known user {k['server_cpu_us_per_request'] / bare:.2f}x the bare signature,"
          f" new user {new['server_cpu_us_per_request'] / k['server_cpu_us_per_request']:.2f}x a known one")
PY
if [ -f "$OUT/profile-$last.txt" ]; then
  echo; echo "== CPU profile, known users at $last identities (top 25)"; cat "$OUT/profile-$last.txt"
fi
