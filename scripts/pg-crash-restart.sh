#!/usr/bin/env bash
# pg-crash-restart.sh: kill -9 a private PostgreSQL cluster under a running
# fedid, start it again, and at once have 16 concurrent clients create new
# developer users; count the HTTP 500s. Repeats RUNS times (default 10).
#
# It never touches another server: it creates its own cluster (initdb) in
# $DIR (default /tmp/fedid-pg-crash) on port $PORT (default 5439), kills
# only the processes of that cluster (by the pid in its postmaster.pid and
# that pid's children) and stops it at the end.
#
#   scripts/pg-crash-restart.sh            # 10 runs
#   RUNS=3 FEDID_RESTART=1 scripts/pg-crash-restart.sh
#
# FEDID_RESTART=1 also restarts fedid after each crash (a fresh process on a
# restarted database) instead of keeping it running across the crash.
# Needs the PostgreSQL server binaries (PGBIN, default
# /usr/lib/postgresql/15/bin) and, when run as root, a `postgres` user.
set -euo pipefail

RUNS=${RUNS:-10}
PORT=${PORT:-5439}
DIR=${DIR:-/tmp/fedid-pg-crash}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLIENTS=${CLIENTS:-16}
PER_CLIENT=${PER_CLIENT:-10}
FEDID_PORT=${FEDID_PORT:-9639}
POOL_CONNS=${POOL_CONNS:-16}

cd "$(dirname "$0")/.."
if [[ ! -x $PGBIN/initdb ]]; then
	echo "pg-crash-restart: PostgreSQL server binaries not found in $PGBIN (set PGBIN)" >&2
	exit 2
fi
as_pg() {
	if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

rm -rf "$DIR"
mkdir -p "$DIR"
[[ $(id -u) == 0 ]] && chown postgres "$DIR"
as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust >"$DIR/initdb.log"
pgstart() { as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1" -l "$DIR/pg.log" -w start >/dev/null 2>&1; }
pgstart
URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable&pool_max_conns=$POOL_CONNS"

go build -o "$DIR/fedid" ./cmd/fedid
FEDID_PID=
cleanup() {
	[[ -n $FEDID_PID ]] && kill "$FEDID_PID" 2>/dev/null && wait "$FEDID_PID" 2>/dev/null
	as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
start_fedid() {
	"$DIR/fedid" serve --addr "127.0.0.1:$FEDID_PORT" --db "$URL" >>"$DIR/fedid.log" 2>&1 &
	FEDID_PID=$!
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$FEDID_PORT/healthz" >/dev/null && return 0
		sleep 0.1
	done
	echo "fedid did not start; see $DIR/fedid.log" >&2
	exit 1
}
start_fedid
POOL=$(AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$DIR/fedid" bench --endpoint "http://127.0.0.1:$FEDID_PORT" \
	--mix new=100 -c 1 --requests 1 --users 1 --raw 0 --verify-every 0 --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["pool"])')
echo "pool $POOL"

total=0
for run in $(seq "$RUNS"); do
	pm=$(head -1 "$DIR/data/postmaster.pid")
	kids=$(pgrep -P "$pm" || true)
	kill -9 "$pm" $kids
	while kill -0 "$pm" 2>/dev/null; do sleep 0.05; done
	for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.05; done; done
	pgstart
	if [[ ${FEDID_RESTART:-} == 1 ]]; then
		kill "$FEDID_PID"
		wait "$FEDID_PID" || true
		start_fedid
	fi
	out=$(AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$DIR/fedid" bench --endpoint "http://127.0.0.1:$FEDID_PORT" \
		--pool "$POOL" --skip-setup --users 1 --mix new=100 -c "$CLIENTS" --requests $((CLIENTS * PER_CLIENT)) \
		--raw 0 --verify-every 0 --json 2>/dev/null)
	errs=$(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r.get("errors",0), json.dumps(r.get("errors_by_code") or {}))')
	n500=$(grep -c 'request failed' "$DIR/fedid.log" || true)
	echo "run $run: requests $((CLIENTS * PER_CLIENT)) errors $errs (server errors logged so far: $n500)"
	total=$((total + ${errs%% *}))
done
echo "total errors over $RUNS runs: $total"
grep 'request failed' "$DIR/fedid.log" | sed 's/.* err=//' | sort | uniq -c | head -20 || true
[[ $total == 0 ]]
