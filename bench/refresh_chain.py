#!/usr/bin/env python3
"""Refresh-token rotation under load: THREADS clients each log in once, then refresh in a chain
(each refresh spends the token the previous one returned) for SECONDS.

    BASE_URL=http://127.0.0.1:8000 LOGIN_USER=admin@example.com LOGIN_PASSWORD=... python3 refresh_chain.py
Prints `refreshes: <n> in <s> s, failures <f>, server ticks <t>`: with SERVER_PGID, the CPU ticks
(utime+stime) of that process group over the refresh window only (the logins excluded). Stdlib only.
"""

import http.client
import json
import os
import threading
import time
import urllib.parse

base = urllib.parse.urlsplit(os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
seconds = float(os.environ.get("SECONDS", "10"))
threads = int(os.environ.get("THREADS", "8"))
login = urllib.parse.urlencode({"username": os.environ["LOGIN_USER"], "password": os.environ["LOGIN_PASSWORD"]})
def group_ticks():
    pgid = os.environ.get("SERVER_PGID")
    if not pgid:
        return 0
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[2] == pgid:
            total += int(fields[11]) + int(fields[12])
    return total


counts, failures = [0] * threads, [0] * threads
ready = threading.Barrier(threads + 1)
go = threading.Barrier(threads + 1)
deadline = [0.0]


def client(i):
    conn = http.client.HTTPConnection(base.hostname, base.port or 80, timeout=60)
    conn.request("POST", "/api/v1/auth/token", body=login,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    token = json.loads(resp.read())["refresh_token"]
    ready.wait()
    go.wait()
    while time.perf_counter() < deadline[0]:
        conn.request("POST", "/api/v1/auth/refresh", body=json.dumps({"refresh_token": token}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            failures[i] += 1
            break
        token = json.loads(body)["refresh_token"]
        counts[i] += 1


workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
for w in workers:
    w.start()
ready.wait()
ticks0 = group_ticks()
t0 = time.perf_counter()
deadline[0] = t0 + seconds
go.wait()
for w in workers:
    w.join()
elapsed = time.perf_counter() - t0
print(f"refreshes: {sum(counts)} in {elapsed:.2f} s, failures {sum(failures)}, server ticks {group_ticks() - ticks0}")
