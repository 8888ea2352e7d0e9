"""A trivial service for supervisor and stack tests: serves GET /healthz, records its environment.

Run as ``python -m tiny_service`` with this folder on PYTHONPATH. Knobs (environment):
``TINY_EXIT_CODE`` exits at once with that code; ``TINY_IGNORE_SIGTERM=1`` ignores SIGTERM (to test the
SIGKILL escalation).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/healthz"
        body = json.dumps({"ok": ok, "pid": os.getpid()}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def main() -> None:
    if "TINY_EXIT_CODE" in os.environ:
        print("tiny_service: exiting as asked", flush=True)
        sys.exit(int(os.environ["TINY_EXIT_CODE"]))
    data_dir = Path(os.environ["TRIBUTARY_DATA_DIR"])
    replica = os.environ.get("TRIBUTARY_REPLICA", "0")
    env = {k: v for k, v in os.environ.items() if k.startswith(("TRIBUTARY_", "AWS_", "TINY_", "MALLOC_"))}
    (data_dir / f"env.{replica}.json").write_text(json.dumps(env))
    server = ThreadingHTTPServer(
        (os.environ["TRIBUTARY_HTTP_HOST"], int(os.environ["TRIBUTARY_HTTP_PORT"])), Handler
    )
    if os.environ.get("TINY_IGNORE_SIGTERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("tiny_service: serving", flush=True)
    try:
        server.serve_forever()
    finally:
        print("tiny_service: drained", flush=True)


if __name__ == "__main__":
    main()
