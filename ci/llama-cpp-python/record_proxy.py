#!/usr/bin/env python3
"""Record a real OpenAI-compatible server's answers, for tests that replay them.

Sits between fcbench and the server and appends every exchange (method, path, request body,
status, response body) to a JSONL file, unchanged. Used to record llama-cpp-python's own server
(`python -m llama_cpp.server`, PyPI) on SmolLM2 for backends/http/tests/llama_cpp_python_replay.rs:
that server takes too long to build for CI, so CI replays what it really answered.

  python3 record_proxy.py --upstream http://127.0.0.1:8000 --out answers.jsonl [--meta JSON]

prints `listening on http://127.0.0.1:PORT`; point `fcbench run --backend http --url` there.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--upstream", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--meta", help="a JSON object written first, as {\"meta\": …}")
    a = p.parse_args()
    out = open(a.out, "a", encoding="utf-8")
    if a.meta:
        out.write(json.dumps({"meta": json.loads(a.meta)}) + "\n")
        out.flush()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self, method: str) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            req = urllib.request.Request(a.upstream + self.path, data=body, method=method)
            if body is not None:
                req.add_header("Content-Type", self.headers.get("Content-Type", "application/json"))
            try:
                with urllib.request.urlopen(req, timeout=300) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            out.write(json.dumps({
                "method": method, "path": self.path,
                "request": body.decode("utf-8") if body else None,
                "status": status, "response": data.decode("utf-8", "replace"),
            }, ensure_ascii=False) + "\n")
            out.flush()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.forward("GET")

        def do_POST(self):
            self.forward("POST")

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    print(f"listening on http://127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
