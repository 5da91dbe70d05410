#!/usr/bin/env bash
# The TypeScript client's check: generate the types from `hexgate openapi`, type-check the client
# and its test with `tsc --strict`, then run the test against a live hexgate on a fresh SQLite
# database. A change to the API that breaks the client fails here (at `tsc` or in the test).
set -euo pipefail
cd "$(dirname "$0")"

HEXGATE_BIN="${HEXGATE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}/debug/hexgate}"
if [ ! -x "$HEXGATE_BIN" ]; then
  echo "check.sh: no hexgate binary at $HEXGATE_BIN (build it, or set HEXGATE_BIN)" >&2
  exit 1
fi
HEXGATE_BIN="$(cd "$(dirname "$HEXGATE_BIN")" && pwd)/$(basename "$HEXGATE_BIN")"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/hexgate-ts.XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "client: npm ci"
npm ci --no-audit --no-fund --loglevel=error >/dev/null

echo "client: generate src/schema.d.ts from hexgate openapi"
"$HEXGATE_BIN" openapi >"$tmp/openapi.json"
npx --no-install openapi-typescript "$tmp/openapi.json" --output src/schema.d.ts >/dev/null

# One `tsc --strict` both type-checks and compiles to build/ (noEmitOnError: a type error emits
# nothing and fails the check); the test is then plain JavaScript for node.
echo "client: tsc --strict"
rm -rf build
npx --no-install tsc --strict

echo "client: start hexgate"
mkdir -p "$tmp/run"
# The service runs in an empty directory so that no `.env` is picked up; PORT=0 picks a free port,
# which the "hexgate listening" log line reports.
(
  cd "$tmp/run"
  exec env -i PATH="$PATH" HOME="$tmp/run" \
    ENVIRONMENT=test \
    SECRET_KEY=test-secret-key-0123456789-abcdefghijklmnop \
    DATABASE_URL="sqlite://$tmp/run/hexgate.db" \
    HOST=127.0.0.1 PORT=0 \
    FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
    UPLOAD_DIR="$tmp/run/uploads" MAIL_OUTBOX_DIR="$tmp/run/outbox" \
    RATE_LIMIT_PER_MINUTE=100000 LOGIN_RATE_LIMIT_PER_MINUTE=100000 \
    LOG_FORMAT=json RUST_LOG=info \
    "$HEXGATE_BIN"
) >"$tmp/service.log" 2>&1 &
pid=$!

port=""
for _ in $(seq 1 300); do
  port="$(python3 -c '
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("message") == "hexgate listening":
        print(entry["port"])
        break
' "$tmp/service.log")"
  [ -n "$port" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "check.sh: hexgate did not start; its log:" >&2
  cat "$tmp/service.log" >&2
  exit 1
fi
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$url/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$url/health" >/dev/null || { echo "check.sh: $url/health never answered" >&2; cat "$tmp/service.log" >&2; exit 1; }

echo "client: test against $url"
if ! HEXGATE_URL="$url" HEXGATE_ADMIN_EMAIL=admin@example.com HEXGATE_ADMIN_PASSWORD=AdminPass123 \
  node build/test.js; then
  echo "check.sh: the client test failed; the service log:" >&2
  tail -n 50 "$tmp/service.log" >&2
  exit 1
fi
