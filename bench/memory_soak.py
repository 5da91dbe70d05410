#!/usr/bin/env python3
"""Memory soak against a running hexgate (stdlib only): RSS while it signs up, logs in and changes
passwords, in two equal halves, then while it idles.

    python3 bench/memory_soak.py http://127.0.0.1:8010 <server pid>

Each half (at SCALE=1): 5,000 sign-ups (4,000 as 40 admin batches of 100, 1,000 single), 5,000
logins of those users and 500 password changes, on THREADS client threads. A sampler reads VmRSS
from /proc/<pid>/status every SAMPLE_MS. Reported, in MB (MiB):

- idle: median over the 2 s after a warm-up (the admin's login);
- peak: the highest of the samples and the kernel's VmHWM (which sees spikes between samples);
- 5k / 10k mark: median over the 2 s after each half's last response;
- settled: the lowest sample over the last 5 s of a SETTLE_SECONDS idle wait (and the last one).

Criteria: peak < PEAK_LIMIT_MB (120), settled - idle <= SETTLE_LIMIT_MB (20), 10k mark - 5k mark
<= GROWTH_LIMIT_MB (5). Env: SCALE (1.0), THREADS (8), BACKEND (a label), CSV (where the raw
samples go), ADMIN_EMAIL / ADMIN_PASSWORD, MAX_FAILURES (50).
Exit: 0 all pass, 1 a criterion failed, 2 too many failed requests, 3 the server died.
"""
import concurrent.futures
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse

BASE = sys.argv[1]
PID = int(sys.argv[2])
SCALE = float(os.environ.get("SCALE", "1.0"))
THREADS = int(os.environ.get("THREADS", "8"))
BACKEND = os.environ.get("BACKEND", "?")
CSV = os.environ.get("CSV")
ADMIN_EMAIL = os.environ.get("ADMIN_EMAIL", "admin@example.com")
ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "AdminPass123")
MAX_FAILURES = int(os.environ.get("MAX_FAILURES", "50"))
SAMPLE_S = int(os.environ.get("SAMPLE_MS", "200")) / 1000
SETTLE_SECONDS = float(os.environ.get("SETTLE_SECONDS", "15"))
PEAK_LIMIT_MB = float(os.environ.get("PEAK_LIMIT_MB", "120"))
SETTLE_LIMIT_MB = float(os.environ.get("SETTLE_LIMIT_MB", "20"))
GROWTH_LIMIT_MB = float(os.environ.get("GROWTH_LIMIT_MB", "5"))

SIGNUPS = round(5000 * SCALE)
SINGLES = min(SIGNUPS, round(1000 * SCALE))
BATCHED = SIGNUPS - SINGLES
BATCH_SIZE = 100
LOGINS = round(5000 * SCALE)
CHANGES = min(SIGNUPS, round(500 * SCALE))
PASSWORD, NEW_PASSWORD = "SoakPass123", "SoakPass456"
RUN = format(int(time.time()) % 100000, "05d")  # keeps names unique if the database is reused

url = urllib.parse.urlsplit(BASE)
HOST, PORT = url.hostname, url.port or 80


class ServerDied(Exception):
    pass


class TooManyFailures(Exception):
    pass


# ---------------------------------------------------------------- RSS sampling

def proc_status():
    """VmRSS and VmHWM in kB, or None once the process is gone (or a zombie)."""
    try:
        with open(f"/proc/{PID}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields.get("State", "").strip().startswith(("Z", "X")) or "VmRSS" not in fields:
        return None
    kb = lambda k: int(fields[k].split()[0])  # noqa: E731
    return kb("VmRSS"), kb("VmHWM")


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []  # (seconds since start, rss kB, phase)
        self.hwm_kb = 0
        self.phase = "start"
        self.start_time = time.monotonic()
        self.stopped = threading.Event()
        self.dead = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.stopped.is_set():
            status = proc_status()
            if status is None:
                self.dead.set()
                return
            rss, hwm = status
            with self.lock:
                self.samples.append((time.monotonic() - self.start_time, rss, self.phase))
                self.hwm_kb = max(self.hwm_kb, hwm)
            self.stopped.wait(SAMPLE_S)

    def now(self):
        return time.monotonic() - self.start_time

    def window(self, since, until=None):
        with self.lock:
            return [rss for t, rss, _ in self.samples if t >= since and (until is None or t <= until)]

    def watch(self, phase, seconds):
        """Sets the phase, waits `seconds`, returns the samples taken meanwhile (kB)."""
        self.phase = phase
        since = self.now()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.dead.is_set():
                raise ServerDied()
            time.sleep(0.05)
        return self.window(since)


sampler = Sampler()


# ---------------------------------------------------------------- HTTP

local = threading.local()
failures = {}  # (what, status) -> count
failure_examples = []
failures_lock = threading.Lock()
abort = threading.Event()


def request(method, path, body=None, headers=None):
    """One request on this thread's keep-alive connection; (status, parsed body or text)."""
    headers = dict(headers or {})
    for attempt in (1, 2):
        conn = getattr(local, "conn", None)
        fresh = conn is None
        if fresh:
            conn = local.conn = http.client.HTTPConnection(HOST, PORT, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            data = res.read()
            break
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionRefusedError):
            conn.close()
            local.conn = None
            # A kept-alive connection the server closed: retry once on a new one. Anything else,
            # or a fresh connection failing, means the server is in trouble.
            if fresh or attempt == 2:
                if sampler.dead.is_set() or proc_status() is None:
                    raise ServerDied() from None
                raise
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data[:200].decode(errors="replace")
    return res.status, parsed


def check(what, status, body, ok=(200, 201, 204)):
    if status in ok:
        return True
    with failures_lock:
        failures[(what, status)] = failures.get((what, status), 0) + 1
        if len(failure_examples) < 5:
            failure_examples.append(f"{what} -> {status}: {json.dumps(body)[:300]}")
        if sum(failures.values()) > MAX_FAILURES:
            abort.set()
    return False


def json_req(method, path, payload, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return request(method, path, json.dumps(payload).encode(), headers)


def login(username, password):
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    status, body = request("POST", "/api/v1/auth/token", form, {"content-type": "application/x-www-form-urlencoded"})
    ok = check("login", status, body)
    return body["access_token"] if ok else None


def user(half, i):
    name = f"soak{RUN}h{half}u{i}"
    return {"email": f"{name}@example.com", "username": name, "password": PASSWORD}


def run_all(pool, fn, items):
    """Runs fn over items on the pool; stops early when the server dies or too much fails."""
    results = []
    for fut in [pool.submit(lambda it=it: None if abort.is_set() else fn(it)) for it in items]:
        results.append(fut.result())
    if sampler.dead.is_set():
        raise ServerDied()
    if abort.is_set():
        raise TooManyFailures()
    return results


def half(pool, n, admin_token):
    users = [user(n, i) for i in range(SIGNUPS)]
    batches = [users[i:i + BATCH_SIZE] for i in range(0, BATCHED, BATCH_SIZE)]
    singles = users[BATCHED:]

    def batch(chunk):
        status, body = json_req("POST", "/api/v1/users/batch", chunk, admin_token)
        check("batch sign-up", status, body)

    def single(u):
        status, body = json_req("POST", "/api/v1/users", u)
        check("sign-up", status, body)

    started = time.monotonic()
    sampler.phase = f"half{n}-signup"
    run_all(pool, batch, batches)
    run_all(pool, single, singles)
    sampler.phase = f"half{n}-login"
    # Every user logs in (round robin if LOGINS exceeds them); the first CHANGES keep their token.
    tokens = run_all(pool, lambda i: login(users[i % len(users)]["username"], PASSWORD), range(LOGINS))

    def change(i):
        token = tokens[i] if i < len(tokens) else None
        token = token or login(users[i]["username"], PASSWORD)
        if token:
            status, body = json_req("POST", "/api/v1/auth/password",
                                    {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token)
            check("password change", status, body)

    sampler.phase = f"half{n}-password"
    run_all(pool, change, range(CHANGES))
    return time.monotonic() - started


# ---------------------------------------------------------------- report

def mb(kb):
    return kb / 1024


def main():
    if proc_status() is None:
        print(f"memory soak: no process {PID}", file=sys.stderr)
        return 3
    sampler.start()
    print(f"## memory soak, {BACKEND}: pid {PID}, SCALE={SCALE}, {THREADS} threads; per half "
          f"{SIGNUPS} sign-ups ({BATCHED} in {len(range(0, BATCHED, BATCH_SIZE))} batches + {SINGLES} single), "
          f"{LOGINS} logins, {CHANGES} password changes", flush=True)
    code = 0
    marks = []
    try:
        sampler.phase = "warm-up"
        admin = login(ADMIN_EMAIL, ADMIN_PASSWORD)
        if not admin:
            print("memory soak: the admin cannot log in: " + "; ".join(failure_examples), file=sys.stderr)
            return 2
        sampler.watch("warm-up", 1.0)
        idle = statistics.median(sampler.watch("idle", 2.0))
        print(f"idle RSS {mb(idle):.1f} MB", flush=True)
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            for n, label in ((1, "5,000"), (2, "10,000")):
                took = half(pool, n, admin)
                mark = statistics.median(sampler.watch(f"mark{n}", 2.0))
                marks.append(mark)
                print(f"{label} mark: RSS {mb(mark):.1f} MB (half {n} took {took:.1f} s)", flush=True)
                # The admin's token outlives a half only if ACCESS_TOKEN_EXPIRE_MINUTES allows it.
                admin = login(ADMIN_EMAIL, ADMIN_PASSWORD) or admin
        settle = sampler.watch("settle", SETTLE_SECONDS)
        settle_end = sampler.now()
        tail = sampler.window(settle_end - 5.0) or settle
        settled, at_end = min(tail), settle[-1]
    except ServerDied:
        print(f"memory soak: the server (pid {PID}) died during '{sampler.phase}'", file=sys.stderr)
        code = 3
    except TooManyFailures:
        print(f"memory soak: more than {MAX_FAILURES} failed requests; stopped", file=sys.stderr)
        code = 2
    except Exception as err:  # a timeout, a refused connection, a malformed answer
        print(f"memory soak: stopped during '{sampler.phase}': {err!r}", file=sys.stderr)
        code = 3 if sampler.dead.is_set() or proc_status() is None else 2
    finally:
        sampler.stopped.set()
        sampler.join()
        write_csv()
        if failures:
            print("non-2xx responses: " + ", ".join(f"{w} {s} x{c}" for (w, s), c in sorted(failures.items())))
            for example in failure_examples:
                print("  " + example)
    if code:
        return code

    peak = max(max(rss for _, rss, _ in sampler.samples), sampler.hwm_kb)
    sampled_peak = max(rss for _, rss, _ in sampler.samples)
    growth = marks[1] - marks[0]
    print(f"peak RSS {mb(peak):.1f} MB (VmHWM {mb(sampler.hwm_kb):.1f}, highest sample {mb(sampled_peak):.1f})")
    print(f"after the work: {mb(settled):.1f} MB (lowest over the last 5 s), "
          f"{mb(at_end):.1f} MB at {SETTLE_SECONDS:g} s")
    criteria = [
        (peak < PEAK_LIMIT_MB * 1024, f"peak {mb(peak):.1f} MB < {PEAK_LIMIT_MB:g} MB"),
        (settled - idle <= SETTLE_LIMIT_MB * 1024,
         f"settled {mb(settled):.1f} MB within {SETTLE_LIMIT_MB:g} MB of idle {mb(idle):.1f} MB "
         f"({mb(settled - idle):+.1f})"),
        (growth <= GROWTH_LIMIT_MB * 1024,
         f"5,000 -> 10,000 growth {mb(growth):+.1f} MB <= {GROWTH_LIMIT_MB:g} MB"),
    ]
    for ok, text in criteria:
        print(f"{'PASS' if ok else 'FAIL'} [{BACKEND}] {text}")
    verdict = "pass" if all(ok for ok, _ in criteria) else "FAIL"
    row = (f"| {BACKEND} | {SCALE:g} | {mb(idle):.1f} | {mb(peak):.1f} | {mb(marks[0]):.1f} | {mb(marks[1]):.1f} "
           f"| {mb(growth):+.1f} | {mb(settled):.1f} | {verdict} |")
    print("ROW " + row, flush=True)
    return 0 if verdict == "pass" else 1


def write_csv():
    if not CSV:
        return
    with open(CSV, "w") as f:
        f.write("seconds,rss_kb,phase\n")
        for t, rss, phase in sampler.samples:
            f.write(f"{t:.3f},{rss},{phase}\n")


if __name__ == "__main__":
    sys.exit(main())
