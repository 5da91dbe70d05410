#!/usr/bin/env python3
"""Compares the time of a failed login for an existing user (wrong password) with one for an
unknown user. The contract wants them indistinguishable: an unknown user still costs one hash.

    BASE_URL=http://127.0.0.1:8000 KNOWN_USER=known python3 bench/login_equality.py

The server's login limits must be out of the way (LOGIN_RATE_LIMIT_PER_MINUTE and
LOGIN_MAX_FAILURES large), or the answers turn into 429s.
"""
import http.client
import os
import statistics
import time
import urllib.parse

base = urllib.parse.urlsplit(os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
known = os.environ.get("KNOWN_USER", "known")


def timed(user: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection(base.hostname, base.port or 80, timeout=30)
    out = []
    for _ in range(n):
        body = urllib.parse.urlencode({"username": user, "password": "Wrong12345"})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        out.append((time.perf_counter() - t0) * 1000)
        if resp.status != 401:
            raise SystemExit(f"expected 401, got {resp.status}")
    return out


timed(known, 5), timed("no-such-user", 5)  # warm-up
a, b = [], []
for _ in range(3):  # interleaved, so drift affects both alike
    a += timed(known, 20)
    b += timed("no-such-user", 20)
for name, xs in (("known user, wrong password", a), ("unknown user", b)):
    xs.sort()
    print(f"{name}: n={len(xs)} median {statistics.median(xs):.2f} ms  mean {statistics.mean(xs):.2f} ms  "
          f"p10 {xs[len(xs) // 10]:.2f}  p90 {xs[9 * len(xs) // 10]:.2f}")
