#!/usr/bin/env bash
# Runs the README's shell walkthroughs against a fresh fedid, with the AWS
# CLI, and fails on the first command that fails.
#
# Which blocks run: every ```sh fenced block whose opening fence follows a
# line that is exactly <!-- test --> (blank lines between them allowed). The
# blocks run in README order, in one bash shell (`set -euo pipefail`), so a
# variable set by one block (POOL=$(...)) is used by the next ones. Output
# examples in a block are `#` comments and never run. The only change made
# to the README's text: its address, 127.0.0.1:9600, becomes the address of
# the fedid started here (a free port, a database in a temporary directory).
#
# The CLI: AWS_CLI (default /usr/bin/aws, Debian's awscli package) is put
# first in PATH, ahead of any other `aws` (pyenv's v1, for one). Debian 12's
# 2.9 does not read AWS_ENDPOINT_URL, so the README's advice for older CLIs
# (the aws() shell function) is what makes the walkthrough reach fedid; a
# CLI that ignored both would call the real AWS with the key `test` and fail.
#
# Needs: go, the AWS CLI, python3 (for a free port). Exits non-zero on any
# failure; prints the commands as they run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

AWS_CLI=${AWS_CLI:-/usr/bin/aws}
if [ ! -x "$AWS_CLI" ]; then
  echo "test-readme: $AWS_CLI not found (apt-get install awscli, or set AWS_CLI)" >&2
  exit 1
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "test-readme: building fedid"
go build -o "$tmp/fedid" ./cmd/fedid

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
addr=127.0.0.1:$port
# With the example's declared state, which the README's "Declared state"
# block uses.
"$tmp/fedid" serve --addr "$addr" --db "$tmp/fedid.db" --init examples/init.yaml >"$tmp/fedid.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "test-readme: fedid exited:" >&2; cat "$tmp/fedid.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://$addr/healthz" >/dev/null || { echo "test-readme: fedid does not answer on $addr" >&2; cat "$tmp/fedid.log" >&2; exit 1; }
echo "test-readme: fedid serving on $addr"

# The tested blocks, in order.
awk '
  /^<!-- test -->[[:space:]]*$/ { armed = 1; next }
  armed && /^```sh[[:space:]]*$/ { inblock = 1; armed = 0; n++; print "# --- README block " n " (line " NR ")"; next }
  inblock && /^```[[:space:]]*$/ { inblock = 0; next }
  inblock { print; next }
  armed && /^[[:space:]]*$/ { next }
  { armed = 0 }
' README.md | sed "s/127\.0\.0\.1:9600/$addr/g" >"$tmp/blocks.sh"
blocks=$(grep -c '^# --- README block' "$tmp/blocks.sh" || true)
if [ "$blocks" -lt 5 ]; then
  echo "test-readme: found $blocks tested blocks in README.md; expected the walkthroughs (<!-- test --> before \`\`\`sh)" >&2
  exit 1
fi

# What the blocks must have produced, checked in the same shell.
cat >"$tmp/checks.sh" <<'EOF'
# --- checks
set +x
fail() { echo "test-readme: FAIL: $*" >&2; exit 1; }
[[ "$POOL" =~ ^us-east-1:[0-9a-f-]{36}$ ]] || fail "POOL is not a pool ID: '$POOL'"
[[ "$ID" =~ ^us-east-1:[0-9a-f-]{36}$ ]] || fail "ID is not an identity ID: '$ID'"
IFS=. read -r -a parts <<<"$TOKEN"
[ "${#parts[@]}" -eq 3 ] || fail "TOKEN has ${#parts[@]} dot-separated parts, not 3"
for p in "${parts[@]}"; do [ -n "$p" ] || fail "TOKEN has an empty part"; done
# The pool ID returned by create-identity-pool is the one fedid describes,
# the identity belongs to it, and the token names both.
[ "$(aws cognito-identity describe-identity-pool --identity-pool-id "$POOL" --query IdentityPoolId --output text)" = "$POOL" ] \
  || fail "describe-identity-pool does not return $POOL"
payload=$(python3 -c 'import base64,sys; p=sys.argv[1]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "${parts[1]}")
python3 - "$payload" "$POOL" "$ID" <<'PY' || fail "token claims: $payload"
import json, sys
c = json.loads(sys.argv[1])
assert c["aud"] == sys.argv[2], "aud"
assert c["sub"] == sys.argv[3], "sub"
assert c["amr"][0] == "authenticated", "amr"
assert c["https://aws.amazon.com/tags"]["principal_tags"]["team"] == ["blue"], "tags"
PY
# The same user gets the same identity again.
again=$(aws cognito-identity get-open-id-token-for-developer-identity --identity-pool-id "$POOL" \
  --logins login.example=user1 --query IdentityId --output text)
[ "$again" = "$ID" ] || fail "user1 got $again, then $ID"
# Credentials of the authenticated role.
key=$(aws cognito-identity get-credentials-for-identity --identity-id "$ID" \
  --logins cognito-identity.amazonaws.com="$TOKEN" --query Credentials.AccessKeyId --output text)
[[ "$key" =~ ^ASIA[A-Z0-9]{16}$ ]] || fail "access key '$key'"
# The declared pool and the two the walkthroughs made, listed.
n=$(aws cognito-identity list-identity-pools --max-results 60 --query 'length(IdentityPools)' --output text)
[ "$n" -eq 3 ] || fail "list-identity-pools lists $n pools, not 3"
[ "$DECLARED" = us-east-1:2f3c6a1e-0000-4000-8000-0000000000a1 ] || fail "user1 of the declared pool got '$DECLARED'"
echo "test-readme: checks passed (pool $POOL, identity $ID, token of 3 parts, key $key)"
EOF

{
  echo 'set -euo pipefail'
  echo 'set -x'
  cat "$tmp/blocks.sh" "$tmp/checks.sh"
} >"$tmp/run.sh"

echo "test-readme: running $blocks README blocks with $("$AWS_CLI" --version 2>&1)"
# A clean CLI environment: no profile, no pager, nothing inherited that
# could send the commands elsewhere; the README's blocks export the rest.
(
  cd "$tmp"
  env -i HOME="$tmp" PATH="$(dirname "$AWS_CLI"):/usr/bin:/bin" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= \
    LANG=C.UTF-8 bash "$tmp/run.sh"
) || { echo "test-readme: FAILED; fedid's log:" >&2; tail -n 20 "$tmp/fedid.log" >&2; exit 1; }
echo "test-readme: ok"
