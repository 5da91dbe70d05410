#!/usr/bin/env bash
# Side-by-side load benchmark: hexgate (release build) and the FastAPI peer, one after the other,
# on the same PostgreSQL, each on a fresh database, driven by the peer's own wrk scripts.
#
#   bash bench/run.sh            (or: just bench)
# Env: DURATION (15s), CONNECTIONS (64), SEED_USERS (1000), PEER_DIR (../shared/peers/fastapi).
# Needs: wrk (apt-get install wrk), python3 with venv, PostgreSQL on 127.0.0.1:5432 (user postgres).
# Writes raw outputs to bench/results/<UTC time>/ and prints a Markdown table for docs/benchmarks.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
PEER_DIR="${PEER_DIR:-$root/../shared/peers/fastapi}"
export DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-64}" THREADS="${THREADS:-2}"
SEED_USERS="${SEED_USERS:-1000}"
PG="postgres://postgres@127.0.0.1:5432"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$root/bench/results/$stamp"
mkdir -p "$out"

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: start PostgreSQL first" >&2; exit 1; }

cargo build --release -p hexgate-server
work="$(mktemp -d)"
# The peer's folder is read-only; it runs from a copy with its own virtualenv.
cp -r "$PEER_DIR" "$work/peer"
chmod -R u+w "$work/peer"
pids=()
# Each server runs in its own process group (setsid), so stopping it stops its workers too.
stop() { kill -TERM -- "-$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done; kill -KILL -- "-$1" 2>/dev/null || true; }
cleanup() { for p in "${pids[@]}"; do stop "$p"; done; rm -rf "$work"; }
trap cleanup EXIT
port_free() { ! curl -s -o /dev/null "http://127.0.0.1:$1/health" || { echo "bench: port $1 is taken; stop what runs there" >&2; exit 1; }; }

fresh_db() { psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
wait_up() { for _ in $(seq 1 120); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.5; done; echo "bench: $1 did not start" >&2; return 1; }
token() {
  curl -sf -X POST "$1/api/v1/auth/token" -d "username=admin@example.com&password=AdminPass123" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

common_env=(ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop"
  RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 LOGIN_MAX_FAILURES=100000000
  FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123)

bench_one() {  # name base_url
  local name="$1" base="$2"
  wait_up "$base"
  TOKEN="$(token "$base")" BASE_URL="$base" SEED_USERS="$SEED_USERS" OUT_DIR="$out/$name" \
    LOGIN_USER=admin@example.com LOGIN_PASSWORD=AdminPass123 COUNT=20 \
    bash "$work/peer/bench/bench.sh" > "$out/$name.log" 2>&1
}

# hexgate: two workers (the peer runs two uvicorn workers), access log off as the peer's is.
port_free 8000
port_free 8001
fresh_db bench_hexgate
setsid env "${common_env[@]}" DATABASE_URL="$PG/bench_hexgate" PORT=8000 WEB_WORKERS=2 DATABASE_POOL_SIZE=20 \
  RUST_LOG=warn LOG_FORMAT=json "$CARGO_TARGET_DIR/release/hexgate" > "$out/hexgate-server.log" 2>&1 &
pids+=($!)
bench_one hexgate http://127.0.0.1:8000
stop "${pids[-1]}"

fresh_db bench_peer
(cd "$work/peer" && exec setsid env "${common_env[@]}" DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_peer?ssl=disable" \
  PORT=8001 WORKERS=2 ./run.sh > "$out/peer-server.log" 2>&1) &
pids+=($!)
bench_one peer http://127.0.0.1:8001

python3 "$root/bench/table.py" "$out" | tee "$out/summary.md"
echo "raw outputs in $out"
