#!/usr/bin/env python3
"""Reads bench/results/<run>/{hexgate,peer}/summary.txt and prints a Markdown comparison."""
import re
import sys
from pathlib import Path

run = Path(sys.argv[1])


def parse(name):
    text = (run / name / "summary.txt").read_text()
    rows = {}
    for block in re.split(r"^== ", text, flags=re.M)[1:]:
        key = block.split(":", 1)[0]
        rps = re.search(r"Requests/sec:\s+([\d.]+)", block)
        p50 = re.search(r"50%\s+([\d.]+\w+)", block)
        p99 = re.search(r"99%\s+([\d.]+\w+)", block)
        non2xx = re.search(r"Non-2xx.*?(\d+)", block)
        rows[key] = (rps and float(rps.group(1)), p50 and p50.group(1), p99 and p99.group(1),
                     non2xx.group(1) if non2xx else "0")
    login = re.search(r"mean ([\d.]+)\s+median ([\d.]+)", text)
    return rows, login


hex_rows, hex_login = parse("hexgate")
peer_rows, peer_login = parse("peer")
print("| endpoint | hexgate req/s | peer req/s | ratio | hexgate p50 / p99 | peer p50 / p99 | non-2xx (hexgate, peer) |")
print("|---|---|---|---|---|---|---|")
for key in hex_rows:
    h, p = hex_rows[key], peer_rows.get(key, (None, None, None, "?"))
    ratio = f"{h[0] / p[0]:.1f}x" if h[0] and p[0] else "n/a"
    print(f"| {key} | {h[0]:.0f} | {p[0] or 0:.0f} | {ratio} | {h[1]} / {h[2]} | {p[1]} / {p[2]} | {h[3]}, {p[3]} |")
if hex_login and peer_login:
    print(f"| login (sequential, ms mean / median) | {hex_login.group(1)} / {hex_login.group(2)} | "
          f"{peer_login.group(1)} / {peer_login.group(2)} | | | | |")
