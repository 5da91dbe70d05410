#!/usr/bin/env bash
# What observability costs on the hot path: GET /api/v1/users/me (bearer) on a release build,
# driven by wrk, with metrics off (METRICS_ENABLED=false), metrics on, and metrics on plus the
# OTLP trace exporter (to a local sink collector, bench/otlp_sink.py). Reports req/s, latency and
# the server's CPU time per request (utime+stime from /proc/<pid>/stat, before and after the run).
#
#   bash bench/observability.sh      (or: just bench-observability)
# Env: DURATION (15s), CONNECTIONS (64), THREADS (2), ROUNDS (2: each variant runs this many times,
# interleaved, so drift on a shared machine hits all of them), PORT (8020), DATABASE (postgres or
# sqlite), WEB_WORKERS (2).
# Needs: wrk (apt-get install wrk), python3, PostgreSQL on 127.0.0.1:5432 (user postgres) for
# DATABASE=postgres. Raw outputs go to bench/results/<UTC time>/ (not committed); a Markdown table
# for docs/benchmarks.md is printed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-64}" THREADS="${THREADS:-2}" ROUNDS="${ROUNDS:-2}"
PORT="${PORT:-8020}" DATABASE="${DATABASE:-postgres}" WEB_WORKERS="${WEB_WORKERS:-2}"
PG="postgres://postgres@127.0.0.1:5432"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$root/bench/results/observability-$stamp"
mkdir -p "$out"
base="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
if [ "$DATABASE" = postgres ]; then
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: start PostgreSQL first (or DATABASE=sqlite)" >&2; exit 1; }
fi
cargo build --release -p hexgate-server
bin="$CARGO_TARGET_DIR/release/hexgate"

pids=()
stop() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done; kill -KILL "$1" 2>/dev/null || true; }
cleanup() { for p in "${pids[@]}"; do stop "$p"; done; }
trap cleanup EXIT
wait_up() { for _ in $(seq 1 120); do curl -sf "$base/health" >/dev/null && return 0; sleep 0.5; done; echo "bench: hexgate did not start" >&2; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The sink collector: answers every OTLP export 200 and counts the bytes.
sink_port=$((PORT + 1))
python3 "$root/bench/otlp_sink.py" "$sink_port" > "$out/sink.log" 2>&1 &
sink=$!
pids+=("$sink")

run_variant() {  # name round env...
  local name="$1" round="$2"; shift 2
  local db_url
  if [ "$DATABASE" = postgres ]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_obs WITH (FORCE)" -c "CREATE DATABASE bench_obs"
    db_url="$PG/bench_obs"
  else
    rm -f "$out/bench.db"*; db_url="sqlite://$out/bench.db"
  fi
  env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 \
    FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
    DATABASE_URL="$db_url" PORT="$PORT" WEB_WORKERS="$WEB_WORKERS" DATABASE_POOL_SIZE=20 \
    RUST_LOG=warn LOG_FORMAT=json METRICS_TOKEN=bench-metrics-token-0123456789 "$@" \
    "$bin" > "$out/$name-$round-server.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_up
  local token
  token="$(curl -sf -X POST "$base/api/v1/auth/token" -d "username=admin@example.com&password=AdminPass123" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  wrk -t2 -c16 -d3s -H "Authorization: Bearer $token" "$base/api/v1/users/me" > /dev/null  # warm-up
  local before after
  before="$(cpu_ticks "$pid")"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" \
    "$base/api/v1/users/me" > "$out/$name-$round.wrk"
  after="$(cpu_ticks "$pid")"
  echo "$((after - before))" > "$out/$name-$round.cpu_ticks"
  curl -sf -H "Authorization: Bearer bench-metrics-token-0123456789" "$base/metrics" > "$out/$name-$round.metrics" || true
  stop "$pid"
}

for round in $(seq 1 "$ROUNDS"); do
  run_variant metrics-off "$round" METRICS_ENABLED=false
  run_variant metrics-on "$round" METRICS_ENABLED=true
  run_variant metrics-and-traces "$round" METRICS_ENABLED=true OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port"
done

python3 - "$out" "$(getconf CLK_TCK)" <<'PY' | tee "$out/summary.md"
import glob, os, re, sys
out, hz = sys.argv[1], int(sys.argv[2])
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rows = {}
for path in sorted(glob.glob(os.path.join(out, "*.wrk"))):
    name, rnd = os.path.basename(path)[:-4].rsplit("-", 1)
    text = open(path).read()
    total = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    ticks = int(open(path[:-4] + ".cpu_ticks").read())
    rows.setdefault(name, []).append((rps, ms(*p50.groups()), ms(*p99.groups()), ticks / hz / total * 1e6,
                                      int(errors.group(1)) if errors else 0))
print("| variant | req/s (each round) | mean req/s | p50 / p99 (ms, mean) | server CPU per request (µs, mean) | non-2xx |")
print("|---|---|---|---|---|---|")
for name in ["metrics-off", "metrics-on", "metrics-and-traces"]:
    r = rows.get(name, [])
    if not r:
        continue
    n = len(r)
    print(f"| {name} | {', '.join(f'{x[0]:,.0f}' for x in r)} | {sum(x[0] for x in r)/n:,.0f} | "
          f"{sum(x[1] for x in r)/n:.2f} / {sum(x[2] for x in r)/n:.2f} | {sum(x[3] for x in r)/n:.1f} | {sum(x[4] for x in r)} |")
PY
echo "raw outputs in $out"
