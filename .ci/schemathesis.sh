#!/usr/bin/env bash
# Schema-driven fuzzing of the public API: starts the whole stack (`clmb up`) on ports
# 9180-9183 with its own databases (`clmb_fuzz_*`, dropped first so every run starts
# empty), registers a climber for a token, and runs schemathesis against the served
# OpenAPI document with the checks that no answer is a 5xx and every answer matches
# the schema. Exits non-zero on any failure. Bounded: few examples per operation and a
# time budget.
#
#   .ci/schemathesis.sh                      # defaults below
#   FUZZ_MAX_EXAMPLES=50 FUZZ_MAX_TIME=600 .ci/schemathesis.sh
#
# PostgreSQL: CLMB_DATABASE_URL, else the server at 127.0.0.1:5432.
# Reports (JUnit, and the server's log) go to .cache/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
CACHE=.cache/schemathesis
VENV=$CACHE/venv
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-10}
MAX_TIME=${FUZZ_MAX_TIME:-240}
SEED=${FUZZ_SEED:-20261203}
DATABASE_URL=${CLMB_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PREFIX=clmb_fuzz
GATEWAY=http://127.0.0.1:9180

mkdir -p "$CACHE"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  echo "schemathesis: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv --clear "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build -q -p clmb --bin clmb

# A fresh start: the previous run's climbers and gyms would change what is generated.
if command -v psql >/dev/null; then
  for service in users gyms sessions; do
    psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS ${PREFIX}_$service WITH (FORCE)" >/dev/null
  done
fi

# Rate limits off: the fuzzer writes far faster than any climber, and 429s would hide
# what it is looking for (tests/e2e/limits.rs covers the limits).
CLMB_LOG_FORMAT=json CLMB_DATABASE_URL=$DATABASE_URL target/debug/clmb up \
  --gateway-port 9180 --users-port 9181 --gyms-port 9182 --sessions-port 9183 \
  --data-dir "$CACHE/data" --database-prefix "$PREFIX" --rate-limits off \
  >"$CACHE/clmb.log" 2>&1 &
clmb_pid=$!
stop_stack() {
  kill -TERM "$clmb_pid" 2>/dev/null || true
  wait "$clmb_pid" 2>/dev/null || true
}
trap stop_stack EXIT

for _ in $(seq 1 100); do
  curl -sf "$GATEWAY/readyz" >/dev/null && break
  kill -0 "$clmb_pid" 2>/dev/null || { cat "$CACHE/clmb.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf "$GATEWAY/readyz" >/dev/null || { echo "schemathesis: the stack did not start" >&2; exit 1; }

token=$(curl -sf -X POST "$GATEWAY/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email": "fuzz@example.com", "username": "fuzzer", "password": "correct horse battery"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# Deleting the account would turn every later call into a 401 and end the useful run.
status=0
"$VENV/bin/schemathesis" run "$GATEWAY/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --header "Authorization: Bearer $token" \
  --exclude-name "DELETE /api/v1/users/me" \
  --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --seed "$SEED" \
  --request-timeout 30 --workers 2 \
  --report junit --report-dir "$CACHE/report" || status=$?

if grep -E '"level":"(ERROR|WARN)"|panicked' "$CACHE/clmb.log" >"$CACHE/server-errors.log"; then
  echo "schemathesis: the server logged errors (see $CACHE/server-errors.log):"
  head -n 20 "$CACHE/server-errors.log"
fi
exit "$status"
