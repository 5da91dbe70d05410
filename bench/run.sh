#!/usr/bin/env bash
# The goals of docs/benchmarks.md in one run and one table: hexgate (the `dist` profile: release
# with fat LTO, what to deploy) and the FastAPI
# peer, one after the other, on the same PostgreSQL and Redis, each on a fresh database; then hexgate
# on SQLite; then hexgate's list 50,000 rows deep on 100k users. For every endpoint: req/s, p50/p99
# and the server's CPU per request (utime+stime of the server's process group from /proc over the
# run, divided by the requests served: steadier than req/s on a shared machine).
#
#   bash bench/run.sh            (or: just bench)
#   DURATION=5s SHORT=1 bash bench/run.sh     (a quick run: shorter phases, 10k deep rows)
# Env: DURATION (15s, each wrk run), CONNECTIONS (64), THREADS (2), SEED_USERS (1000),
#   DEEP_USERS (100000; SHORT=1: 10000), DEEP_OFFSET (50000; SHORT=1: 5000), WEB_WORKERS (2),
#   PEER=0 (skip the peer), SQLITE=0 (skip SQLite), PEER_DIR (../shared/peers/fastapi),
#   PEER_VENV (~/.cache/hexgate/peer-venv: the peer's virtualenv, kept between runs).
# Needs: wrk, python3 with venv, psql, PostgreSQL on 127.0.0.1:5432 (user postgres), Redis on
# 127.0.0.1:6379 (database 15 is flushed). Raw outputs go to bench/results/<UTC time>/ (not
# committed); the table is printed and written to summary.md there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hexgate/target}"
PEER_DIR="${PEER_DIR:-$root/../shared/peers/fastapi}"
PEER_VENV="${PEER_VENV:-$HOME/.cache/hexgate/peer-venv}"
SHORT="${SHORT:-0}"
DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-64}" THREADS="${THREADS:-2}"
SEED_USERS="${SEED_USERS:-1000}" WEB_WORKERS="${WEB_WORKERS:-2}" PEER="${PEER:-1}" SQLITE="${SQLITE:-1}"
if [ "$SHORT" = 1 ]; then DEEP_USERS="${DEEP_USERS:-10000}" DEEP_OFFSET="${DEEP_OFFSET:-5000}"; fi
DEEP_USERS="${DEEP_USERS:-100000}" DEEP_OFFSET="${DEEP_OFFSET:-50000}"
secs="${DURATION%s}"
PG="postgres://postgres@127.0.0.1:5432"
REDIS="redis://127.0.0.1:6379/15"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$root/bench/results/$stamp"
mkdir -p "$out"
facts="$out/facts.txt"
: > "$facts"
fact() { echo "$1=$2" >> "$facts"; }

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "bench: start PostgreSQL first" >&2; exit 1; }
redis-cli -n 15 ping >/dev/null || { echo "bench: start Redis first" >&2; exit 1; }

cargo build --profile "${PROFILE_NAME:-dist}" -p hexgate-server --bin hexgate
bin="$CARGO_TARGET_DIR/${PROFILE_NAME:-dist}/hexgate"
work="$(mktemp -d)"
# The peer's folder is read-only; it runs from a copy, with a virtualenv kept between runs.
if [ "$PEER" = 1 ]; then
  cp -a "$PEER_DIR" "$work/peer"
  chmod -R u+w "$work/peer"
  if [ ! -x "$PEER_VENV/bin/python" ]; then python3 -m venv "$PEER_VENV"; fi
  if [ ! -f "$PEER_VENV/.requirements.stamp" ] || [ "$PEER_DIR/requirements.txt" -nt "$PEER_VENV/.requirements.stamp" ]; then
    "$PEER_VENV/bin/pip" install --disable-pip-version-check -q -r "$PEER_DIR/requirements.txt"
    touch "$PEER_VENV/.requirements.stamp"
  fi
  ln -s "$PEER_VENV" "$work/peer/.venv"
  touch "$work/peer/.venv/.requirements.stamp"
fi
pids=()
# Each server runs in its own process group (setsid): stopping it stops its workers too, and its
# CPU time is the sum over the group.
stop() { kill -TERM -- "-$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done; kill -KILL -- "-$1" 2>/dev/null || true; }
cleanup() { for p in "${pids[@]}"; do stop "$p"; done; rm -rf "$work"; }
trap cleanup EXIT
port_free() { ! curl -s -o /dev/null "http://127.0.0.1:$1/health" || { echo "bench: port $1 is taken; stop what runs there" >&2; exit 1; }; }
fresh_db() { psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
wait_up() { for _ in $(seq 1 240); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.5; done; echo "bench: $1 did not start" >&2; return 1; }
login_json() {
  curl -sf -X POST "$1/api/v1/auth/token" -d "username=admin@example.com&password=AdminPass123"
}
token() { login_json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
group_ticks() { awk -v pg="$1" '{ sub(/^.*\) /, ""); if ($3 == pg) s += $12 + $13 } END { print s + 0 }' /proc/[0-9]*/stat 2>/dev/null; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

srv=""    # the process group of the server under test
base=""
# wrk_run <label> <path> [lua script] [connections] [threads] [duration]: wrk output plus the
# server's CPU ticks over the run.
wrk_run() {
  local label="$1" path="$2" script="${3:-}" conns="${4:-$CONNECTIONS}" threads="${5:-$THREADS}" dur="${6:-$DURATION}"
  local before after
  before="$(group_ticks "$srv")"
  wrk -t"$threads" -c"$conns" -d"$dur" --latency ${script:+-s "$script"} "$base$path" > "$out/$label.wrk"
  after="$(group_ticks "$srv")"
  echo "$((after - before))" > "$out/$label.ticks"
  grep -E "Requests/sec|^ +99%|Non-2xx" "$out/$label.wrk" | tr -s ' ' | paste -sd' ' | sed "s/^/  $label: /"
  sleep 1
}

seed() {  # seeds SEED_USERS users through the batch endpoint, timed
  BASE_URL="$base" TOKEN="$TOKEN" N="$SEED_USERS" python3 "$PEER_DIR/bench/seed_users.py" > "$out/$1-seed.txt"
  fact "$1.seed" "$(grep -oE '[0-9.]+ ?s' "$out/$1-seed.txt" | tail -1 | tr -d ' s')"
}

core_runs() {  # name: /health, /users/me, the list
  local name="$1"
  wrk_run "$name.health" /health
  wrk_run "$name.me" /api/v1/users/me "$root/bench/auth.lua"
  wrk_run "$name.list" "/api/v1/users?page=1&page_size=20" "$root/bench/auth.lua"
}

credential_runs() {  # name: logins, refreshes, /health idle vs during a login storm
  local name="$1"
  export LOGIN_USER=admin@example.com LOGIN_PASSWORD=AdminPass123
  wrk_run "$name.health_idle" /health "" 4 1
  # The storm: 8 clients logging in back to back; /health probed by 4 other connections meanwhile.
  local before after
  before="$(group_ticks "$srv")"
  wrk -t1 -c8 -d"$DURATION" --latency -s "$root/bench/login.lua" "$base/api/v1/auth/token" > "$out/$name.login.wrk" &
  local storm=$!
  sleep 1
  wrk -t1 -c4 -d"$((secs > 3 ? secs - 2 : 1))s" --latency "$base/health" > "$out/$name.health_storm.wrk"
  wait "$storm"
  after="$(group_ticks "$srv")"
  echo "$((after - before))" > "$out/$name.login.ticks"
  echo 0 > "$out/$name.health_storm.ticks"
  grep -E "Requests/sec|Non-2xx" "$out/$name.login.wrk" | tr -s ' ' | paste -sd' ' | sed "s/^/  $name.login: /"
  sleep 1
  BASE_URL="$base" SERVER_PGID="$srv" SECONDS="$secs" THREADS=8 python3 "$root/bench/refresh_chain.py" | tee "$out/$name.refresh.txt"
}

start_hexgate() {  # name database_url [env...]
  local name="$1" url="$2"; shift 2
  setsid env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 LOGIN_MAX_FAILURES=100000000 \
    FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 \
    DATABASE_URL="$url" PORT=8000 WEB_WORKERS="$WEB_WORKERS" DATABASE_POOL_SIZE=20 RUST_LOG=warn LOG_FORMAT=json "$@" \
    "$bin" > "$out/$name-server.log" 2>&1 &
  srv=$!
  pids+=("$srv")
  base=http://127.0.0.1:8000
  wait_up "$base"
  sleep 3
  fact "$name.rss_idle_kb" "$(rss_kb "$srv")"
  TOKEN="$(token "$base")"
  export TOKEN
}

port_free 8000
port_free 8001

# --- hexgate, PostgreSQL + Redis -------------------------------------------------------------
echo "== hexgate, PostgreSQL + Redis"
fresh_db bench_hexgate
redis-cli -n 15 flushdb >/dev/null
start_hexgate hexgate_pg "$PG/bench_hexgate" REDIS_URL="$REDIS"
seed hexgate_pg
core_runs hexgate_pg
credential_runs hexgate_pg
fact hexgate_pg.rss_after_kb "$(rss_kb "$srv")"

# The list deep: DEEP_USERS users inserted by SQL (sign-ups would hash DEEP_USERS passwords), then
# page 1, the page DEEP_OFFSET rows deep by offset, and the same depth by cursor (next_cursor).
psql -q "$PG/bench_hexgate" <<SQL
INSERT INTO users (id, email, username, full_name, password_hash, is_active, is_verified, permissions, created_at, updated_at)
SELECT gen_random_uuid(), 'deep' || g || '@example.com', 'deep' || g, 'Deep User ' || g,
       (SELECT password_hash FROM users WHERE email = 'admin@example.com'), true, true, 0,
       now() + g * interval '1 millisecond', now()
FROM generate_series(1, $DEEP_USERS - (SELECT count(*) FROM users)) AS g;
ANALYZE users;
SQL
fact deep.offset "$DEEP_OFFSET"
fact deep.users "$(psql -tAq "$PG/bench_hexgate" -c 'SELECT count(*) FROM users')"
deep_page=$((DEEP_OFFSET / 20 + 1))
wrk_run hexgate_pg.deep_first "/api/v1/users?page=1&page_size=20" "$root/bench/auth.lua"
wrk_run hexgate_pg.deep_offset "/api/v1/users?page=$deep_page&page_size=20" "$root/bench/auth.lua"
cursor="$(BASE_URL="$base" DEPTH="$DEEP_OFFSET" python3 - <<'PY'
import json, os, urllib.parse, urllib.request
base, depth, token = os.environ["BASE_URL"], int(os.environ["DEPTH"]), os.environ["TOKEN"]
seen, cursor = 0, None
while seen < depth:
    query = {"page_size": min(100, depth - seen)}
    if cursor:
        query["cursor"] = cursor
    req = urllib.request.Request(f"{base}/api/v1/users?{urllib.parse.urlencode(query)}",
                                 headers={"Authorization": f"Bearer {token}"})
    page = json.load(urllib.request.urlopen(req))
    cursor = page.get("next_cursor")
    seen += len(page["items"])
    if not cursor:
        break
print(cursor or "")
PY
)"
if [ -n "$cursor" ]; then
  first_cursor="$(curl -sf -H "Authorization: Bearer $TOKEN" "$base/api/v1/users?page_size=20" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("next_cursor") or "")')"
  wrk_run hexgate_pg.deep_cursor_first "/api/v1/users?page_size=20&cursor=$first_cursor" "$root/bench/auth.lua"
  wrk_run hexgate_pg.deep_cursor "/api/v1/users?page_size=20&cursor=$cursor" "$root/bench/auth.lua"
else
  echo "  no next_cursor in the users page: cursor rows skipped"
fi
stop "$srv"

# --- the peer, PostgreSQL + Redis ------------------------------------------------------------
if [ "$PEER" = 1 ]; then
  echo "== peer, PostgreSQL + Redis"
  fresh_db bench_peer
  redis-cli -n 15 flushdb >/dev/null
  (cd "$work/peer" && exec setsid env ENVIRONMENT=production SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop" \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 LOGIN_MAX_FAILURES=100000000 \
    FIRST_SUPERUSER_EMAIL=admin@example.com FIRST_SUPERUSER_PASSWORD=AdminPass123 REDIS_URL="$REDIS" \
    DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_peer?ssl=disable" \
    PORT=8001 WORKERS="$WEB_WORKERS" ./run.sh > "$out/peer-server.log" 2>&1) &
  srv=$!
  pids+=("$srv")
  base=http://127.0.0.1:8001
  wait_up "$base"
  sleep 3
  TOKEN="$(token "$base")"
  export TOKEN
  seed peer
  core_runs peer
  credential_runs peer
  stop "$srv"
fi

# --- hexgate, SQLite (the embedded default) -------------------------------------------------
if [ "$SQLITE" = 1 ]; then
  echo "== hexgate, SQLite"
  rm -f "$work"/bench.db*
  start_hexgate hexgate_sqlite "sqlite://$work/bench.db"
  seed hexgate_sqlite
  wrk_run hexgate_sqlite.me /api/v1/users/me "$root/bench/auth.lua"
  wrk_run hexgate_sqlite.list "/api/v1/users?page=1&page_size=20" "$root/bench/auth.lua"
  stop "$srv"
fi

# --- token verification, in process (no HTTP) -------------------------------------------------
cargo run -q --release -p hexgate-testkit --example verify_rate > "$out/verify.txt" 2>&1 || true
cat "$out/verify.txt"

fact clk_tck "$(getconf CLK_TCK)"
fact cores "$(nproc)"
fact duration "$DURATION"
fact load "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$root/bench/table.py" "$out" | tee "$out/summary.md"
echo "raw outputs in $out"
