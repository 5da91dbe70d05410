#!/usr/bin/env bash
# GET /api/v1/users/me authenticated by API key vs by access token, side by side, on one release
# build of hexgate on PostgreSQL (and Redis when REDIS_URL is set), wrk driving each for DURATION.
#
#   bash bench/api_keys.sh            (or: just bench-api-keys)
# Env: DURATION (15s), CONNECTIONS (64), THREADS (2), REDIS_URL (unset: in-process revocations).
# Needs: wrk (apt-get install wrk), PostgreSQL on 127.0.0.1:5432 (user postgres), curl, python3.
# Writes raw wrk outputs to bench/results/<UTC time>-api-keys/ and prints a Markdown table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-64}" THREADS="${THREADS:-2}"
PG="postgres://postgres@127.0.0.1:5432"
PORT="${PORT:-8010}"
base="http://127.0.0.1:$PORT"
out="$root/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-api-keys"
mkdir -p "$out"

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: start PostgreSQL first" >&2; exit 1; }
! curl -s -o /dev/null "$base/health" || { echo "bench: port $PORT is taken" >&2; exit 1; }

cargo build --release -p hexgate-server
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_api_keys WITH (FORCE)" -c "CREATE DATABASE bench_api_keys"

redis_env=()
if [ -n "${REDIS_URL:-}" ]; then redis_env=(REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="bench-api-keys:$$:"); fi
setsid env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" \
  RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 \
  FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
  DATABASE_URL="$PG/bench_api_keys" PORT="$PORT" WEB_WORKERS=2 DATABASE_POOL_SIZE=20 \
  RUST_LOG=warn LOG_FORMAT=json "${redis_env[@]}" \
  "$CARGO_TARGET_DIR/release/hexgate" > "$out/server.log" 2>&1 &
pid=$!
stop() { kill -TERM -- "-$pid" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done; kill -KILL -- "-$pid" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 120); do curl -sf "$base/health" >/dev/null && break; sleep 0.5; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
token="$(curl -sf -X POST "$base/api/v1/auth/token" -d "username=admin@example.com&password=AdminPass123" | json access_token)"
key="$(curl -sf -X POST "$base/api/v1/auth/api-keys" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["profile:read"]}' | json key)"

run() {  # name credential
  curl -sf -o /dev/null "$base/api/v1/users/me" -H "Authorization: Bearer $2"   # warm and check
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $2" \
    "$base/api/v1/users/me" > "$out/$1.txt"
}
run access-token "$token"
run api-key "$key"
# Both again in the other order, so neither always runs on a colder or warmer server.
run api-key-2 "$key"
run access-token-2 "$token"

python3 - "$out" <<'PY'
import re, sys, pathlib
out = pathlib.Path(sys.argv[1])
def parse(name):
    text = (out / f"{name}.txt").read_text()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return rps, lat.get("50", "?"), lat.get("99", "?"), int(non2xx.group(1)) if non2xx else 0
print("| credential | run | req/s | p50 | p99 | non-2xx |")
print("|---|---|---|---|---|---|")
for label, names in (("access token", ["access-token", "access-token-2"]), ("API key", ["api-key", "api-key-2"])):
    for i, name in enumerate(names, 1):
        rps, p50, p99, bad = parse(name)
        print(f"| {label} | {i} | {rps:,.0f} | {p50} | {p99} | {bad} |")
PY
echo "raw outputs in $out"
