"""A loopback reverse proxy in front of the emulator: counts AWS calls per hop and injects throttling.

Each *hop* (a service of the stack: ingest, archiver...) gets its own listener port, and the stack points
that service's ``AWS_ENDPOINT_URL`` at it, so every call the service makes is attributed to it. The proxy
forwards each request unchanged (same path, headers and body; the ``Host`` header too, so signatures stay
valid) to the emulator over one kept-alive connection per client connection, and counts it under
``(hop, aws service, operation)``:

- the AWS service is the one named in the SigV4 credential scope of the ``Authorization`` header;
- the operation comes from ``X-Amz-Target`` (JSON protocols: EventBridge, SQS, DynamoDB), from
  ``Action=`` in the query string or form body (query protocol: SNS, older SQS clients), or from the S3
  method and path (``PUT /bucket/key`` is ``PutObject``...).

:meth:`AwsProxy.inject` answers a fraction, or the next N, of one operation's calls with a throttling error
in that protocol's own shape (``ThrottlingException`` 400 for JSON, ``RequestThrottled`` for SQS,
``Throttling`` 400 for query, ``SlowDown`` 503 for S3), without forwarding them: botocore's retry logic and
ours see real throttling. Thread-per-connection (stdlib ``ThreadingHTTPServer``): a few hundred calls/s on
loopback with well under a millisecond added per call.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import structlog

from tributary.processes import LOOPBACK

log = structlog.get_logger(__name__)

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "content-length",
}
_UPSTREAM_TIMEOUT_S = 60.0  # above SQS's longest long poll (20 s)


class Call(NamedTuple):
    """One counted call: which hop made it, to which AWS service, which operation."""

    hop: str
    service: str
    operation: str


@dataclass(kw_only=True)
class Fault:
    """Throttle calls of one operation (optionally of one hop only).

    ``fraction`` of the matching calls (spread evenly: call ``n`` fails when ``floor(n*f)`` steps up), or
    the next ``next_n`` of them, whichever is set; ``injected`` counts what it has answered.
    """

    operation: str
    service: str | None = None
    hop: str | None = None
    fraction: float | None = None
    next_n: int | None = None
    seen: int = 0
    injected: int = 0

    def matches(self, call: Call) -> bool:
        return (
            call.operation == self.operation
            and self.service in {None, call.service}
            and self.hop in {None, call.hop}
        )

    def fire(self) -> bool:
        """Whether this matching call is throttled (the caller holds the proxy's lock)."""
        self.seen += 1
        if self.next_n is not None:
            hit = self.injected < self.next_n
        else:
            fraction = self.fraction or 0.0
            hit = int(self.seen * fraction) > int((self.seen - 1) * fraction)
        self.injected += hit
        return hit


@dataclass(frozen=True)
class Reply:
    """An error answer the proxy makes itself."""

    status: int
    headers: dict[str, str]
    body: bytes


def operation_of(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """The AWS operation a request calls (``unknown`` when nothing names it).

    Args:
        method, path: the request line (path with its query string).
        headers: request headers with lower-case names.
        body: the request body (a form for the query protocol).
    """
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    url = urlsplit(path)
    query = parse_qs(url.query, keep_blank_values=True)
    if "Action" in query:
        return query["Action"][0]
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", errors="replace")).get("Action")
        if action:
            return action[0]
    return _s3_operation(method, url.path, query)


def _s3_operation(method: str, path: str, query: dict[str, list[str]]) -> str:
    """S3's REST operation from path-style addressing (``/bucket`` or ``/bucket/key``)."""
    has_key = "/" in path.strip("/")
    if not has_key:
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, "unknown")
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    return {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(
        method, "unknown"
    )


def throttle_reply(service: str, headers: dict[str, str]) -> Reply:
    """A throttling error in the shape the caller's protocol expects."""
    request_id = str(uuid.uuid4())
    message = "Rate exceeded (injected by the tributary AWS proxy)"
    if service == "s3":
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return Reply(503, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, xml.encode())
    if "x-amz-target" in headers:
        reply_headers = {
            "Content-Type": headers.get("content-type", "application/x-amz-json-1.1"),
            "x-amzn-RequestId": request_id,
        }
        if service == "sqs":  # SQS's JSON protocol carries its query-protocol code in this header
            reply_headers["x-amzn-query-error"] = "RequestThrottled;Sender"
        body = json.dumps({"__type": "ThrottlingException", "message": message}).encode()
        return Reply(400, reply_headers, body)
    code = "RequestThrottled" if service == "sqs" else "Throttling"
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Reply(400, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, xml.encode())


@dataclass
class _Ledger:
    """Counts and faults shared by every listener, behind one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: Counter[Call] = field(default_factory=Counter)
    throttled: Counter[Call] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def record(self, call: Call) -> bool:
        """Count the call; whether a fault throttles it."""
        with self.lock:
            self.calls[call] += 1
            hit = any([fault.fire() for fault in self.faults if fault.matches(call)])
            self.throttled[call] += hit
            return hit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like botocore's pool expects
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HopServer

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the counts are the record."""

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in {b"\r\n", b"\n", b""}:
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _relay(self) -> None:
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        scope = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
        service = scope.group(1) if scope else "unknown"
        call = Call(self.server.hop, service, operation_of(self.command, self.path, headers, body))
        if self.server.ledger.record(call):
            self._answer(throttle_reply(service, headers))
            return
        forward = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        forward["Content-Length"] = str(len(body))
        status, reason, reply_headers, reply = self._forward(forward, body)
        self.send_response_only(status, reason)  # the upstream's own Server and Date headers follow
        for key, value in reply_headers:
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        upstream_length = dict((k.lower(), v) for k, v in reply_headers).get("content-length", "0")
        # a HEAD answer has no body but states the object's length
        self.send_header("Content-Length", upstream_length if self.command == "HEAD" else str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request upstream on this connection's kept-alive link (reopened once if it dropped)."""
        for attempt in range(2):
            if self._upstream is None:
                host, port = self.server.upstream
                self._upstream = http.client.HTTPConnection(host, port, timeout=_UPSTREAM_TIMEOUT_S)
                self._upstream.connect()
                assert self._upstream.sock is not None
                self._upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                return response.status, response.reason, response.getheaders(), response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._upstream.close()
                self._upstream = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _answer(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _relay


class _HopServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, hop: str, upstream: tuple[str, int], ledger: _Ledger) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.hop = hop
        self.upstream = upstream
        self.ledger = ledger


class AwsProxy:
    """Listeners per hop in front of one AWS endpoint; counts calls and injects throttling.

    Args:
        upstream: the emulator's endpoint (``http://127.0.0.1:<port>``).

    Use as a context manager, or :meth:`close` when done; :meth:`listen` may be called at any time.
    """

    def __init__(self, upstream: str) -> None:
        url = urlsplit(upstream)
        if url.scheme != "http" or not url.hostname or url.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream = upstream
        self._target = (url.hostname, url.port)
        self._ledger = _Ledger()
        self._servers: dict[str, _HopServer] = {}

    def __enter__(self) -> AwsProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def listen(self, hop: str) -> str:
        """The endpoint URL for ``hop`` (a listener is started on first use)."""
        server = self._servers.get(hop)
        if server is None:
            server = _HopServer(hop, self._target, self._ledger)
            threading.Thread(target=server.serve_forever, name=f"awsproxy-{hop}", daemon=True).start()
            self._servers[hop] = server
            log.info("aws_proxy_listening", hop=hop, port=server.server_address[1], upstream=self.upstream)
        return f"http://{LOOPBACK}:{server.server_address[1]}"

    @property
    def endpoints(self) -> dict[str, str]:
        """Every hop's endpoint URL."""
        return {hop: f"http://{LOOPBACK}:{s.server_address[1]}" for hop, s in self._servers.items()}

    def snapshot(self) -> Counter[Call]:
        """A copy of the call counts so far (throttled calls included)."""
        with self._ledger.lock:
            return Counter(self._ledger.calls)

    def throttled(self) -> Counter[Call]:
        """A copy of the counts of calls the proxy answered with a throttling error."""
        with self._ledger.lock:
            return Counter(+self._ledger.throttled)

    def counts(self) -> dict[str, dict[str, int]]:
        """The snapshot as JSON-ready ``{hop: {"service:Operation": calls}}``."""
        out: dict[str, dict[str, int]] = {}
        for call, n in sorted(self.snapshot().items()):
            out.setdefault(call.hop, {})[f"{call.service}:{call.operation}"] = n
        return out

    def reset(self) -> None:
        """Zero every count (faults stay)."""
        with self._ledger.lock:
            self._ledger.calls.clear()
            self._ledger.throttled.clear()

    def inject(
        self,
        operation: str,
        *,
        service: str | None = None,
        hop: str | None = None,
        fraction: float | None = None,
        next_n: int | None = None,
    ) -> Fault:
        """Throttle ``fraction`` (0 to 1) or the next ``next_n`` calls of ``operation``; returns the fault.

        Raises:
            ValueError: not exactly one of ``fraction`` and ``next_n``, or either out of range.
        """
        if (fraction is None) == (next_n is None):
            raise ValueError("give exactly one of fraction and next_n")
        if fraction is not None and not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be within 0..1, got {fraction}")
        if next_n is not None and next_n < 0:
            raise ValueError(f"next_n must be >= 0, got {next_n}")
        fault = Fault(operation=operation, service=service, hop=hop, fraction=fraction, next_n=next_n)
        with self._ledger.lock:
            self._ledger.faults.append(fault)
        log.info(
            "aws_proxy_fault", operation=operation, service=service, hop=hop, fraction=fraction, n=next_n
        )
        return fault

    def clear_faults(self) -> None:
        """Remove every fault: calls pass through again."""
        with self._ledger.lock:
            self._ledger.faults.clear()

    def close(self) -> None:
        """Stop every listener (idempotent)."""
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()
