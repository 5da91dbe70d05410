#!/usr/bin/env python3
"""Uploads and chat fan-out against a running hexgate (stdlib only: the WebSocket client is here).

    python3 bench/files_chat.py http://127.0.0.1:8000

Uploads: N files of each size, one after another; the time to the 202 (bytes on disk) and to the
task's `done` (hashed, typed, counted). Chat: C readers and one writer; the writer sends M
messages as fast as the socket takes them, every reader counts what arrives; deliveries per second
= C x M / the time until the last reader has all of them.
"""
import base64
import json
import os
import socket
import statistics
import struct
import sys
import threading
import time
import urllib.request
import uuid

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
HOST_PORT = BASE.split("://", 1)[1]
UPLOADS = int(os.environ.get("UPLOADS", "10"))
READERS = int(os.environ.get("READERS", "10"))
MESSAGES = int(os.environ.get("MESSAGES", "5000"))


def call(method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(BASE + path, data=body, method=method, headers=headers or {})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as res:
        return res.status, json.loads(res.read() or b"null")


def account(name):
    body = json.dumps({"email": f"{name}@example.com", "username": name, "password": "Password123"}).encode()
    try:
        call("POST", "/api/v1/users", body, headers={"content-type": "application/json"})
    except urllib.error.HTTPError as err:
        if err.code != 409:
            raise
    form = f"username={name}&password=Password123".encode()
    _, tokens = call("POST", "/api/v1/auth/token", form, headers={"content-type": "application/x-www-form-urlencoded"})
    return tokens["access_token"]


def upload(token, payload):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = head + payload + f"\r\n--{boundary}--\r\n".encode()
    started = time.perf_counter()
    status, accepted = call("POST", "/api/v1/files", body, token,
                            {"content-type": f"multipart/form-data; boundary={boundary}"})
    stored = time.perf_counter() - started
    assert status == 202, accepted
    while True:
        _, task = call("GET", f"/api/v1/tasks/{accepted['task_id']}", token=token)
        if task["status"] in ("done", "failed"):
            assert task["status"] == "done", task
            return stored, time.perf_counter() - started
        time.sleep(0.002)


class WebSocket:
    """Just enough of RFC 6455 for text frames."""

    def __init__(self, path):
        host, port = HOST_PORT.split(":")
        self.sock = socket.create_connection((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {HOST_PORT}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def recv(self):
        """The next text message; pings are answered."""
        while True:
            self._need(2)
            opcode, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            offset = 2
            if n == 126:
                self._need(4)
                n, offset = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                self._need(10)
                n, offset = struct.unpack(">Q", self.buf[2:10])[0], 10
            self._need(offset + n)
            payload, self.buf = self.buf[offset:offset + n], self.buf[offset + n:]
            if opcode == 0x1:
                return payload.decode()
            if opcode == 0x9:
                mask = os.urandom(4)
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask
                                  + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            if opcode == 0x8:
                raise EOFError(payload)


def bench_uploads(token):
    rows = []
    for size in (1 << 20, 10 << 20):
        payload = os.urandom(size)
        stored, done = zip(*(upload(token, payload) for _ in range(UPLOADS)))
        mib = size / (1 << 20)
        rows.append(f"| {mib:.0f} MiB | {statistics.median(stored) * 1000:.1f} ms | "
                    f"{statistics.median(done) * 1000:.1f} ms | {mib / statistics.median(done):.0f} MiB/s |")
    return rows


def bench_chat(token):
    readers = [WebSocket(f"/ws/reader{i}?token={token}") for i in range(READERS)]
    writer = WebSocket(f"/ws/writer?token={token}")
    done = [None] * READERS

    def read(i):
        seen = 0
        try:
            while seen < MESSAGES:
                if readers[i].recv().startswith("Client writer: "):
                    seen += 1
            done[i] = time.perf_counter()
        except EOFError:
            pass  # dropped as a slow reader: reported below

    threads = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for t in threads:
        t.start()
    drain = threading.Thread(target=lambda: [writer.recv() for _ in range(2 * MESSAGES)])
    drain.start()
    started = time.perf_counter()
    for n in range(MESSAGES):
        writer.send(f"message {n} " + "x" * 80)
    for t in threads:
        t.join()
    drain.join()
    finished = [t for t in done if t is not None]
    if len(finished) < READERS:
        return f"| {READERS - len(finished)} of {READERS} readers were dropped as slow (raise CHAT_SEND_QUEUE) | | |"
    elapsed = max(finished) - started
    return (f"| {READERS} readers + 1 writer, {MESSAGES} messages of ~90 bytes | {elapsed:.2f} s | "
            f"{READERS * MESSAGES / elapsed:,.0f} deliveries/s |")


def main():
    token = account("benchuser")
    print("| upload | 202 (stored), median | task done, median | end to end |")
    print("|---|---|---|---|")
    print("\n".join(bench_uploads(token)))
    print()
    print("| chat | time to the last delivery | rate |")
    print("|---|---|---|")
    print(bench_chat(token))


if __name__ == "__main__":
    main()
