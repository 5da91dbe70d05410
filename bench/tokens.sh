#!/usr/bin/env bash
# GET /api/v1/users/me with EdDSA access tokens vs HS256, side by side: the same release build,
# the same PostgreSQL, a fresh database each, one after the other, driven by wrk.
#
#   bash bench/tokens.sh          (or: just bench-tokens)
# Env: DURATION (15s), CONNECTIONS (64), THREADS (2), ROUNDS (2: EdDSA, HS256, EdDSA, HS256, …).
# Needs: wrk (apt-get install wrk), PostgreSQL on 127.0.0.1:5432 (user postgres), python3.
# Writes raw outputs to bench/results/tokens-<UTC time>/ and prints a Markdown table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-64}" THREADS="${THREADS:-2}" ROUNDS="${ROUNDS:-2}"
PG="postgres://postgres@127.0.0.1:5432"
PORT="${PORT:-8010}"
out="$root/bench/results/tokens-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: start PostgreSQL first" >&2; exit 1; }
cargo build --release -p hexgate-server

pid=""
stop() { [ -n "$pid" ] || return 0; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }
trap stop EXIT
fresh_db() { psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
wait_up() { for _ in $(seq 1 120); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.5; done; echo "bench: $1 did not start" >&2; return 1; }

run_one() {  # algorithm round
  local alg="$1" round="$2" base="http://127.0.0.1:$PORT"
  fresh_db bench_tokens
  env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" JWT_ALGORITHM="$alg" \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 \
    FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
    DATABASE_URL="$PG/bench_tokens" PORT="$PORT" WEB_WORKERS=2 DATABASE_POOL_SIZE=20 RUST_LOG=warn LOG_FORMAT=json \
    "$CARGO_TARGET_DIR/release/hexgate" > "$out/server-$alg-$round.log" 2>&1 &
  pid=$!
  wait_up "$base"
  local token
  token="$(curl -sf -X POST "$base/api/v1/auth/token" -d "username=admin@example.com&password=AdminPass123" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  python3 - "$token" "$alg" <<'PY'
import base64, json, sys
header = json.loads(base64.urlsafe_b64decode(sys.argv[1].split(".")[0] + "=="))
assert header["alg"] == sys.argv[2], header
PY
  curl -sf -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/users/me"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" \
    "$base/api/v1/users/me" > "$out/wrk-$alg-$round.txt"
  stop
}

for round in $(seq 1 "$ROUNDS"); do
  for alg in EdDSA HS256; do run_one "$alg" "$round"; done
done

python3 - "$out" <<'PY' | tee "$out/summary.md"
import pathlib, re, sys
out = pathlib.Path(sys.argv[1])
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
print("| algorithm | round | req/s | p50 | p99 | non-2xx |")
print("|---|---|---|---|---|---|")
for f in sorted(out.glob("wrk-*.txt"), key=lambda p: (p.stem.split("-")[2], p.stem.split("-")[1])):
    text = f.read_text()
    _, alg, rnd = f.stem.split("-")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    print(f"| {alg} | {rnd} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {bad.group(1) if bad else 0} |")
PY
echo "raw outputs in $out"
