#!/usr/bin/env bash
# One endpoint, one server, measured the way bench/run.sh measures it: hexgate's CPU per request
# (utime+stime from /proc over the wrk run ÷ requests), req/s and p99; optionally profiled.
# For measuring one change at a time (docs/benchmarks.md, "what a benchmark changed").
#
#   bash bench/me_cpu.sh                     GET /api/v1/users/me on PostgreSQL + Redis
#   DATABASE=sqlite bash bench/me_cpu.sh     on SQLite
#   PROFILE=perf bash bench/me_cpu.sh        perf record -e cpu-clock -g over the run (perf.data in the output)
# Env: DURATION (10s), ROUNDS (2), CONNECTIONS (64), ENDPOINT (/api/v1/users/me), REDIS (1),
#   WEB_WORKERS (2), BIN (the release binary; built when unset), extra server settings in EXTRA_ENV.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
DURATION="${DURATION:-10s}" ROUNDS="${ROUNDS:-2}" CONNECTIONS="${CONNECTIONS:-64}" DATABASE="${DATABASE:-postgres}"
ENDPOINT="${ENDPOINT:-/api/v1/users/me}" REDIS="${REDIS:-1}" WEB_WORKERS="${WEB_WORKERS:-2}" PROFILE="${PROFILE:-}"
PG="postgres://postgres@127.0.0.1:5432"
out="$root/bench/results/me-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
if [ -z "${BIN:-}" ]; then cargo build --profile "${PROFILE_NAME:-dist}" -p hexgate-server --bin hexgate; BIN="$CARGO_TARGET_DIR/${PROFILE_NAME:-dist}/hexgate"; fi
base=http://127.0.0.1:8030
srv=""
stop() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done; kill -KILL "$1" 2>/dev/null || true; }
trap '[ -n "$srv" ] && stop "$srv"' EXIT
if [ "$DATABASE" = postgres ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_me WITH (FORCE)" -c "CREATE DATABASE bench_me"
  url="$PG/bench_me"
else
  url="sqlite://$out/bench.db"
fi
redis_env=()
if [ "$REDIS" = 1 ]; then redis-cli -n 14 flushdb >/dev/null; redis_env=(REDIS_URL=redis://127.0.0.1:6379/14); fi
# shellcheck disable=SC2086
env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" \
  RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 \
  FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
  DATABASE_URL="$url" PORT=8030 WEB_WORKERS="$WEB_WORKERS" DATABASE_POOL_SIZE=20 RUST_LOG=warn LOG_FORMAT=json \
  "${redis_env[@]}" ${EXTRA_ENV:-} "$BIN" > "$out/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 120); do curl -sf "$base/health" >/dev/null && break; sleep 0.5; done
sleep 2
echo "idle RSS: $(awk '/VmRSS/ {print $2}' "/proc/$srv/status") kB"
TOKEN="$(curl -sf -X POST "$base/api/v1/auth/token" -d "username=admin@example.com&password=AdminPass123" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
export TOKEN
wrk -t2 -c16 -d2s -s "$root/bench/auth.lua" "$base$ENDPOINT" > /dev/null
ticks() { awk '{print $14 + $15}' "/proc/$srv/stat"; }
# Context switches of every thread of the server: the wake-ups the issue names.
switches() { cat /proc/"$srv"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
hz="$(getconf CLK_TCK)"
for round in $(seq 1 "$ROUNDS"); do
  perf_pid=""
  if [ "$PROFILE" = perf ] && [ "$round" = 1 ]; then
    perf record -q -e cpu-clock -g -p "$srv" -o "$out/perf.data" > /dev/null 2>&1 &
    perf_pid=$!
  fi
  before="$(ticks)" sw_before="$(switches)"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/auth.lua" "$base$ENDPOINT" > "$out/$round.wrk"
  after="$(ticks)" sw_after="$(switches)"
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  python3 - "$out/$round.wrk" "$((after - before))" "$hz" "$((sw_after - sw_before))" <<'PY'
import re, sys
text, ticks, hz, switches = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99 = re.search(r"99%\s+(\S+)", text).group(1)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:,.0f} req/s, p99 {p99}, {ticks / hz / n * 1e6:.1f} µs CPU per request, {switches / n:.2f} context switches per request, non-2xx {bad.group(1) if bad else 0}")
PY
done
echo "outputs in $out"
