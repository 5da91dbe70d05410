#!/usr/bin/env bash
# Uploads and chat fan-out on a release build: once on the embedded default (SQLite, in-process
# pub/sub) and once on PostgreSQL with Redis (pub/sub through Redis). hexgate only: the FastAPI
# peer implements neither.
#
#   bash bench/files_chat.sh      (or: just bench-files-chat)
# Env: UPLOADS (10 per size), READERS (10), MESSAGES (5000).
# The chat run raises CHAT_SEND_QUEUE so that Python readers, slower than the server, are measured
# rather than dropped as slow readers (which is what the default queue would rightly do), and
# CHAT_MESSAGES_PER_MINUTE so the one writer's 5,000 messages are all fanned out (the default 120
# per connection would answer the rest `Rate limit exceeded`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
PG="postgres://postgres@127.0.0.1:5432"
cargo build --release -p hexgate-server
work="$(mktemp -d)"
pid=""
stop() { [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; pid=""; }
trap 'stop; rm -rf "$work"' EXIT
wait_up() { for _ in $(seq 1 120); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.5; done; echo "bench: $1 did not start" >&2; return 1; }

run() {  # label, then extra env
  local label="$1"; shift
  env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" PORT=8002 WEB_WORKERS=2 \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 RUST_LOG=warn \
    UPLOAD_DIR="$work/uploads-$label" MAIL_OUTBOX_DIR="$work/outbox" JOB_POLL_INTERVAL_MS=20 CHAT_SEND_QUEUE=100000 \
    CHAT_MESSAGES_PER_MINUTE=100000000 "$@" \
    "$CARGO_TARGET_DIR/release/hexgate" > "$work/$label.log" 2>&1 &
  pid=$!
  wait_up http://127.0.0.1:8002
  echo "### $label"
  python3 "$root/bench/files_chat.py" http://127.0.0.1:8002
  echo
  stop
}

run sqlite DATABASE_URL="sqlite://$work/bench.db"
if pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli ping >/dev/null 2>&1; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_files WITH (FORCE)" -c "CREATE DATABASE bench_files"
  run postgres-redis DATABASE_URL="$PG/bench_files" REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="bench-$$:"
else
  echo "(PostgreSQL or Redis not running: the second run is skipped)"
fi
