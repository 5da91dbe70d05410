"""A stand-in OTLP/HTTP collector for bench/observability.sh: answers every POST 200 with an
empty ExportTraceServiceResponse (zero bytes is a valid one) and counts requests and bytes."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stats = {"requests": 0, "bytes": 0}


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        stats["requests"] += 1
        stats["bytes"] += length
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
        if stats["requests"] % 50 == 0:
            print(f"{stats['requests']} exports, {stats['bytes']} bytes", flush=True)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
