#!/usr/bin/env bash
# The clmb benchmark, start to finish (about 10 minutes on 2 cores):
#   1. builds target/release/clmb if needed (the same command as everyone: cargo waits for
#      the shared target/ lock);
#   2. starts `clmb up` on ports 9080-9083 with its own databases on the PostgreSQL server
#      of $CLMB_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
#      named clmb_bench_users|gyms|sessions (--database-prefix), dropped first;
#   3. seeds it through the API (bench/bench.py seed);
#   4. measures it with wrk and pgbench (bench/bench.py measure up);
#   5. restarts it as four processes (clmb gateway|users|gyms|sessions) on the same ports
#      and databases and measures memory and errors again (bench/bench.py measure split);
#   6. writes BENCHMARKS.md and bench/results/latest.json (bench/bench.py report).
#
# It never touches another stack: only its own ports, databases and processes.
# Knobs: BENCH_DURATION (seconds per wrk run, default 10), BENCH_CONC (default 32),
# BENCH_SKIP_SPLIT=1 (skip step 5).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=.cache/bench
SERVER_URL=${CLMB_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SERVER_BASE=${SERVER_URL%/*}
PREFIX=clmb_bench
export BENCH_DB_PREFIX=$PREFIX
export BENCH_PG_PORT
BENCH_PG_PORT=$(python3 -c 'import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).port or 5432)' "$SERVER_URL")
PORTS=(9080 9081 9082 9083)
BIN=target/release/clmb
PIDS=()

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

stop_ours() {
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_ours EXIT

wait_ready() {
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 150); do
      if curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; then
        continue 2
      fi
      sleep 0.2
    done
    log "port $port never became ready; see $BENCH/*.log" >&2
    exit 1
  done
}

write_pids() {
  python3 -c 'import json, sys; it = iter(sys.argv[1:]); print(json.dumps(dict(zip(it, map(int, it)))))' "$@" \
    >"$BENCH/pids.json"
}

mkdir -p "$BENCH" bench/results
rm -f "$BENCH/results.json"

# Tools.
command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y wrk >/dev/null; }
for tool in pgbench psql curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

# Build (a no-op when target/release/clmb is current).
log "cargo build --release --bin clmb"
cargo build --release --bin clmb

# Our ports must be free: another stack keeps its own.
for port in "${PORTS[@]}"; do
  if ss -ltnH "sport = :$port" | grep -q .; then
    echo "bench: port $port is in use; stop whatever listens there (ss -ltnp) and retry" >&2
    exit 1
  fi
done

# A clean slate: our databases only.
log "dropping ${PREFIX}_users|gyms|sessions on $SERVER_BASE"
for db in users gyms sessions; do
  psql "$SERVER_URL" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS ${PREFIX}_$db WITH (FORCE)"
done
rm -rf "$BENCH/data"
# Made here (clmb up keeps existing databases) so that the sessions database logs the plan
# of any statement slower than 1 s (auto_explain) to the server log; harmless otherwise.
for db in users gyms sessions; do
  psql "$SERVER_URL" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE ${PREFIX}_$db"
done
psql "$SERVER_URL" -qAtX -v ON_ERROR_STOP=1 \
  -c "ALTER DATABASE ${PREFIX}_sessions SET session_preload_libraries = 'auto_explain'" \
  -c "ALTER DATABASE ${PREFIX}_sessions SET auto_explain.log_min_duration = '1s'"
PG_LOG=${BENCH_PG_LOG:-/var/log/postgresql/postgresql-15-main.log}
PG_LOG_START=0
[[ -r $PG_LOG ]] && PG_LOG_START=$(stat -c %s "$PG_LOG")

export CLMB_RATE_LIMITS=off # the seed registers 1,000 users from one address

# --- 1. clmb up: the whole stack in one process ------------------------------------
log "starting $BIN up on ports ${PORTS[*]}"
CLMB_DATABASE_URL=$SERVER_URL CLMB_DATABASE_PREFIX=$PREFIX \
  "$BIN" up --gateway-port 9080 --users-port 9081 --gyms-port 9082 --sessions-port 9083 \
  --data-dir "$BENCH/data" >"$BENCH/up.log" 2>&1 &
PIDS+=($!)
wait_ready
write_pids "clmb up" "${PIDS[0]}"

log "seeding through the API"
python3 bench/bench.py seed
log "measuring clmb up"
python3 bench/bench.py measure up
stop_ours

# --- 2. one process per component, as in a cluster --------------------------------
if [[ ${BENCH_SKIP_SPLIT:-0} != 1 ]]; then
  log "starting clmb gateway|users|gyms|sessions as four processes"
  export CLMB_USERS_URL=http://127.0.0.1:9081 CLMB_GYMS_URL=http://127.0.0.1:9082 \
    CLMB_SESSIONS_URL=http://127.0.0.1:9083 \
    CLMB_JWT_PUBLIC_KEY_FILE=$BENCH/data/keys/public.pem
  names=(gateway users gyms sessions)
  for i in 0 1 2 3; do
    name=${names[$i]}
    env_db=()
    [[ $name != gateway ]] && env_db=(CLMB_DATABASE_URL="$SERVER_BASE/${PREFIX}_$name")
    [[ $name == users ]] && env_db+=(CLMB_JWT_PRIVATE_KEY_FILE="$BENCH/data/keys/private.pem")
    env "${env_db[@]}" CLMB_LISTEN="127.0.0.1:${PORTS[$i]}" "$BIN" "$name" \
      >"$BENCH/$name.log" 2>&1 &
    PIDS+=($!)
  done
  wait_ready
  write_pids gateway "${PIDS[0]}" users "${PIDS[1]}" gyms "${PIDS[2]}" sessions "${PIDS[3]}"
  log "measuring the four processes"
  python3 bench/bench.py measure split
  stop_ours
fi

# Plans of the statements that took over 1 s, from this run's part of the server log.
if [[ -r $PG_LOG ]]; then
  tail -c +$((PG_LOG_START + 1)) "$PG_LOG" | grep -A40 'duration: .* plan:' >"$BENCH/slow-plans.log" || true
fi

python3 bench/bench.py report
log "done: BENCHMARKS.md"
