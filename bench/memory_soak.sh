#!/usr/bin/env bash
# Memory soak on a release build: RSS (VmRSS from /proc/<pid>/status) while hexgate does 5,000
# sign-ups (batch and single), 5,000 logins and 500 password changes, then as much again, then
# idles. Once on SQLite and once on PostgreSQL, each on a fresh database. The criteria: RSS under
# 120 MB throughout, back within 20 MB of idle after the work, no growth between the two marks.
#
#   bash bench/memory_soak.sh      (or: just bench-memory)
# Env: BACKENDS ("sqlite postgres"), SCALE (1.0; 0.05 for a quick run), THREADS (8), PORT (8010),
# WEB_WORKERS (2, pinned so that runs on different machines compare), SETTLE_SECONDS (15),
# PEAK_LIMIT_MB (120), SETTLE_LIMIT_MB (20), GROWTH_LIMIT_MB (5), OUT_DIR (bench/results/<UTC time>),
# ALLOCATOR (jemalloc, the shipped one; `system` for glibc's malloc or `mimalloc`, to compare).
# Needs: python3, and for postgres PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
# Writes the raw samples (memory-<backend>.csv) and server logs to OUT_DIR, and prints a Markdown
# table for docs/benchmarks.md. Exit: 0 every criterion passed, 1 one failed, 2 the run broke
# (failed requests, or the server died).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PORT="${PORT:-8010}"
WEB_WORKERS="${WEB_WORKERS:-2}"
export SCALE="${SCALE:-1.0}" THREADS="${THREADS:-8}"
PG="postgres://postgres@127.0.0.1:5432"
DB=soak_memory
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="${OUT_DIR:-$root/bench/results/$stamp}"
ALLOCATOR="${ALLOCATOR:-jemalloc}"
case "$ALLOCATOR" in
  jemalloc) features=() ;;
  system) features=(--features system-allocator) ;;
  mimalloc) features=(--features mimalloc) ;;
  *) echo "memory soak: unknown ALLOCATOR '$ALLOCATOR' (jemalloc, system, mimalloc)" >&2; exit 2 ;;
esac
base="http://127.0.0.1:$PORT"

for b in $BACKENDS; do
  case "$b" in
    sqlite) ;;
    postgres) pg_isready -h 127.0.0.1 -p 5432 -q || { echo "memory soak: start PostgreSQL first (or BACKENDS=sqlite)" >&2; exit 2; } ;;
    *) echo "memory soak: unknown backend '$b' (sqlite, postgres)" >&2; exit 2 ;;
  esac
done
# Anything accepting connections on the port (hexgate or not) would be measured instead of ours.
if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then
  echo "memory soak: port $PORT is taken; stop what runs there or set PORT" >&2
  exit 2
fi

cargo build --release -p hexgate-server "${features[@]}"
mkdir -p "$out"
work="$(mktemp -d)"
# A copy of its own, so a later build of another variant cannot swap the binary under the run.
bin="$work/hexgate-$ALLOCATOR"
cp "$CARGO_TARGET_DIR/release/hexgate" "$bin"
pid=""
# The server runs in its own process group (setsid): stopping the group stops all of it.
stop() {
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap 'stop; rm -rf "$work"' EXIT
alive() { [ -r "/proc/$1/status" ] && ! grep -qE '^State:\s+[ZX]' "/proc/$1/status"; }
wait_up() {
  for _ in $(seq 1 120); do
    alive "$pid" || { echo "memory soak: the server exited at start-up; see $1" >&2; return 1; }
    curl -sf "$base/health" >/dev/null && return 0
    sleep 0.5
  done
  echo "memory soak: $base did not start; see $1" >&2
  return 1
}

rows=()
status=0
for backend in $BACKENDS; do
  if [ "$backend" = postgres ]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
    url="$PG/$DB"
  else
    url="sqlite://$work/soak.db"
  fi
  log="$out/memory-$backend-server.log"
  # setsid from a non-interactive shell is not a group leader, so it does not fork: $! is hexgate.
  setsid env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 LOGIN_MAX_FAILURES=100000000 \
    ACCESS_TOKEN_EXPIRE_MINUTES=240 FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
    RUST_LOG=warn LOG_FORMAT=json PORT="$PORT" WEB_WORKERS="$WEB_WORKERS" SHUTDOWN_TIMEOUT_SECONDS=5 \
    DATABASE_URL="$url" UPLOAD_DIR="$work/uploads-$backend" MAIL_OUTBOX_DIR="$work/outbox-$backend" \
    "$bin" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 20); do [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$bin")" ] && break; sleep 0.1; done
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$bin")" ] || { echo "memory soak: pid $pid is not $bin" >&2; exit 2; }
  wait_up "$log"

  rc=0
  BACKEND="$backend" CSV="$out/memory-$backend.csv" python3 "$root/bench/memory_soak.py" "$base" "$pid" \
    | sed "s/^ROW | $backend |/ROW | $backend, $ALLOCATOR |/" | tee "$out/memory-$backend.txt" || rc=${PIPESTATUS[0]}
  if ! alive "$pid"; then
    echo "memory soak: the $backend server died; the end of $log:" >&2
    tail -n 20 "$log" >&2
    rc=3
  fi
  stop
  rows+=("$(sed -n 's/^ROW //p' "$out/memory-$backend.txt")")
  case "$rc" in
    0) ;;
    1) status=$(( status > 1 ? status : 1 )) ;;
    *) status=2 ;;
  esac
  echo
done

{
  echo "| backend | scale | idle MB | peak MB | 5,000 mark MB | 10,000 mark MB | growth MB | settled MB | verdict |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do [ -n "$r" ] && echo "$r"; done
} | tee "$out/memory-summary.md"
echo "raw samples in $out"
exit "$status"
