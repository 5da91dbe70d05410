#!/usr/bin/env python3
"""Reads one bench/run.sh output folder and prints the goals table of docs/benchmarks.md.

    python3 bench/table.py bench/results/<run>

Per wrk run `<server>.<label>.wrk` (+ `.ticks`, the server's CPU ticks over the run), the facts in
facts.txt (`key=value`), the refresh chains (`<server>.refresh.txt`) and verify.txt.
"""
import re
import sys
from pathlib import Path

run = Path(sys.argv[1])
facts = dict(line.split("=", 1) for line in (run / "facts.txt").read_text().splitlines() if "=" in line)
hz = int(facts.get("clk_tck", "100"))


def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(name):
    """(req/s, p99 ms, CPU µs per request, requests, non-2xx) of a wrk run, or None."""
    path = run / f"{name}.wrk"
    if not path.exists():
        return None
    text = path.read_text()
    total = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    ticks_path = run / f"{name}.ticks"
    ticks = int(ticks_path.read_text()) if ticks_path.exists() else 0
    cpu = ticks / hz / total * 1e6 if total and ticks else None
    return rps, ms(*p99.groups()), cpu, total, int(bad.group(1)) if bad else 0


def refresh(name):
    path = run / f"{name}.refresh.txt"
    if not path.exists():
        return None
    m = re.search(r"refreshes: (\d+) in ([\d.]+) s, failures (\d+), server ticks (\d+)", path.read_text())
    if not m:
        return None
    n, secs, failures, ticks = int(m.group(1)), float(m.group(2)), int(m.group(3)), int(m.group(4))
    return n / secs, (n / (ticks / hz) if ticks else None), failures


def cell(r):
    if r is None:
        return "—"
    rps, p99, cpu, _, bad = r
    text = f"{rps:,.0f} req/s, p99 {p99:.2f} ms, {cpu:.0f} µs CPU" if cpu else f"{rps:,.0f} req/s, p99 {p99:.2f} ms"
    return text + (f", **{bad} non-2xx**" if bad else "")


def ratio(a, b):
    return f"{a / b:.1f}×" if a and b else "—"


def met(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


rows = []
h, p = wrk("hexgate_pg.health"), wrk("peer.health")
rows.append(("`GET /health`", cell(h), cell(p), ratio(h and h[0], p and p[0]), "", None))
h, p = wrk("hexgate_pg.me"), wrk("peer.me")
ok = None
if h and p:
    ok = h[0] >= 12 * p[0] and h[1] <= p[1] / 8 and (h[2] or 1e9) <= 40
rows.append(("`GET /users/me` (bearer)", cell(h), cell(p),
             f"{ratio(h and h[0], p and p[0])} req/s, p99 {ratio(p and p[1], h and h[1])} lower",
             "≥ 12× req/s, p99 ≤ 1/8, ≤ 40 µs CPU", ok))
h, p = wrk("hexgate_pg.list"), wrk("peer.list")
rows.append(("`GET /users?page_size=20` (admin, 1k users)", cell(h), cell(p), ratio(h and h[0], p and p[0]),
             "≥ 8×", (h[0] >= 8 * p[0]) if h and p else None))
for label, name in [("SQLite: `GET /users/me`", "hexgate_sqlite.me"), ("SQLite: the list (1k users)", "hexgate_sqlite.list")]:
    rows.append((label, cell(wrk(name)), "", "", "reported", None))
users = int(facts.get("deep.users", "0"))
depth = int(facts.get("deep.offset", "50000"))
first, offset = wrk("hexgate_pg.deep_first"), wrk("hexgate_pg.deep_offset")
c_first, c_deep = wrk("hexgate_pg.deep_cursor_first"), wrk("hexgate_pg.deep_cursor")
rows.append((f"list page 1 ({users:,} users)", cell(first), "", "", "", None))
rows.append((f"list {depth:,} deep by offset ({users:,} users)", cell(offset), "",
             f"{ratio(first and first[0], offset and offset[0])} slower than page 1", "reported", None))
rows.append(("list page 2 by cursor", cell(c_first) if c_first else "not implemented", "", "", "", None))
rows.append((f"list {depth:,} deep by cursor", cell(c_deep) if c_deep else "not implemented", "",
             f"{ratio(c_first and c_first[0], c_deep and c_deep[0])} of page 2's cost" if c_deep else "",
             "same cost as the first", (c_deep[0] >= 0.8 * c_first[0]) if c_first and c_deep else False))
for server in ["hexgate_pg", "hexgate_sqlite"]:
    kb = facts.get(f"{server}.rss_idle_kb")
    if kb:
        after = facts.get(f"{server}.rss_after_kb")
        extra = f" ({int(after) / 1024:.1f} MB right after the load, before jemalloc's 1 s purge)" if after else ""
        rows.append((f"idle RSS, {'PostgreSQL + Redis' if server == 'hexgate_pg' else 'SQLite'}",
                     f"{int(kb) / 1024:.1f} MB{extra}", "", "", "≤ 30 MB", int(kb) <= 30 * 1024))


def per_core(name):
    r = wrk(f"{name}.login")
    if not r or not r[2]:
        return None, "—"
    return 1e6 / r[2], f"{r[0]:,.1f} logins/s, {1e6 / r[2]:,.1f} per CPU-second" + (f", **{r[4]} non-2xx**" if r[4] else "")


hl, hl_text = per_core("hexgate_pg")
pl, pl_text = per_core("peer")
rows.append(("logins (8 clients; Argon2 at each side's parameters)", hl_text, pl_text, ratio(hl, pl), "reported per core", None))
hr, pr = refresh("hexgate_pg"), refresh("peer")


def refresh_text(r):
    if not r:
        return "—"
    return f"{r[0]:,.0f} refreshes/s, {r[1]:,.0f} per CPU-second" + (f", **{r[2]} failed**" if r[2] else "")


rows.append(("refreshes (8 chains)", refresh_text(hr), refresh_text(pr), ratio(hr and hr[1], pr and pr[1]),
             "reported per core", None))
verify = run / "verify.txt"
if verify.exists():
    found = re.findall(r"verify (\w+): (\d+) verifications/s per core \(([\d.]+) µs each\)", verify.read_text())
    text = "; ".join(f"{alg}: {int(n):,}/s ({us} µs)" for alg, n, us in found) or "—"
    rows.append(("token verifications per core (in process)", text, "", "", "reported", None))
for server, label in [("hexgate_pg", "hexgate"), ("peer", "peer")]:
    idle, storm = wrk(f"{server}.health_idle"), wrk(f"{server}.health_storm")
    if idle and storm:
        rows.append((f"`/health` p99 idle → during a login storm ({label}, 4 connections)",
                     f"{idle[1]:.2f} ms → {storm[1]:.2f} ms", "", f"{storm[1] / idle[1]:.1f}× idle",
                     "≤ 2× idle" if label == "hexgate" else "", (storm[1] <= 2 * idle[1]) if label == "hexgate" else None))

print(f"Run {run.name}: {facts.get('cores', '?')} cores, wrk {facts.get('duration', '?')} per run, "
      f"load average at the end {facts.get('load', '?')}; seeding 1,000 users: hexgate "
      f"{facts.get('hexgate_pg.seed', '?')} s, peer {facts.get('peer.seed', '?')} s.")
print()
print("| measure | hexgate | FastAPI peer | ratio | goal | met |")
print("|---|---|---|---|---|---|")
for measure, hexgate, peer, r, goal, ok in rows:
    print(f"| {measure} | {hexgate} | {peer} | {r} | {goal} | {met(ok) if goal else ''} |")
