"""The AWS proxy: relays unchanged, counts per hop and operation, throttles in each protocol's shape.

The upstream is a tiny local HTTP server that records what reaches it and answers each protocol's empty
success; the callers are real botocore clients (and raw HTTP for the relay details).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tributary.aws import emulator_client
from tributary.awsproxy import AwsProxy, Call, operation_of

ENTRIES = [{"Source": "s", "DetailType": "d", "Detail": "{}"}]
TOPIC = "arn:aws:sns:us-east-1:000000000000:t"
QUEUE = "http://q/000000000000/q"
PUBLISHED = b"<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>"


@dataclass
class Seen:
    """What reached the backend: (method, path, headers, body) per request."""

    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _BackendServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.server.seen.lock:
            self.server.seen.requests.append((self.command, self.path, headers, body))
        if "x-amz-target" in headers:
            reply, kind = b'{"FailedEntryCount": 0, "Entries": []}', "application/x-amz-json-1.1"
        elif b"Action=Publish" in body:
            reply, kind = PUBLISHED, "text/xml"
        elif self.command == "GET":
            reply, kind = b"stored object", "application/octet-stream"
        else:
            reply, kind = b"", "application/xml"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer


class _BackendServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Backend)
        self.seen = Seen()


@pytest.fixture
def backend() -> Iterator[_BackendServer]:
    server = _BackendServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(backend: _BackendServer) -> Iterator[AwsProxy]:
    with AwsProxy(f"http://127.0.0.1:{backend.server_address[1]}") as running:
        yield running


def _client(service: str, endpoint: str, retries: int = 2) -> Any:
    """A botocore client; its ``max_attempts`` counts retries after the first attempt."""
    return emulator_client(service, endpoint, timeout_s=10.0, max_attempts=retries)


def test_calls_are_relayed_unchanged_and_counted_per_hop(proxy: AwsProxy, backend: _BackendServer) -> None:
    """botocore calls through two hops reach the backend as sent and count under hop, service, operation."""
    ingest, archiver = proxy.listen("ingest"), proxy.listen("archiver")
    assert ingest != archiver
    assert proxy.listen("ingest") == ingest
    _client("events", ingest).put_events(Entries=ENTRIES)
    s3 = _client("s3", archiver)
    s3.put_object(Bucket="b", Key="day/one.gz", Body=b"x" * 5000)
    got = s3.get_object(Bucket="b", Key="day/one.gz")["Body"].read()
    _client("sns", archiver).publish(TopicArn=TOPIC, Message="hi")

    assert got == b"stored object"
    assert proxy.counts() == {
        "ingest": {"events:PutEvents": 1},
        "archiver": {"s3:PutObject": 1, "s3:GetObject": 1, "sns:Publish": 1},
    }
    methods = [(m, p.split("?")[0]) for m, p, _, _ in backend.seen.requests]
    assert methods[1:3] == [("PUT", "/b/day/one.gz"), ("GET", "/b/day/one.gz")]
    put_headers, put_body = backend.seen.requests[1][2], backend.seen.requests[1][3]
    assert put_headers["host"] == urlsplit(archiver).netloc  # signed as the client sent it
    assert b"x" * 5000 in put_body


CALLS: dict[str, tuple[str, Callable[[Any], object], str]] = {
    "sqs": ("DeleteMessage", lambda c: c.delete_message(QueueUrl=QUEUE, ReceiptHandle="h"),
            "RequestThrottled"),
    "events": ("PutEvents", lambda c: c.put_events(Entries=ENTRIES), "ThrottlingException"),
    "sns": ("Publish", lambda c: c.publish(TopicArn=TOPIC, Message="m"), "Throttling"),
    "s3": ("PutObject", lambda c: c.put_object(Bucket="b", Key="k", Body=b"1"), "SlowDown"),
}  # fmt: skip


@pytest.mark.parametrize("service", sorted(CALLS))
def test_throttling_has_each_protocol_shape_and_botocore_retries_it(
    proxy: AwsProxy, backend: _BackendServer, service: str
) -> None:
    """A throttled answer is retried by botocore (the second attempt passes); five exhaust its two."""
    operation, call, code = CALLS[service]
    endpoint = proxy.listen("hop")
    proxy.inject(operation, next_n=1)
    call(_client(service, endpoint, retries=1))
    assert len(backend.seen.requests) == 1
    assert proxy.throttled() == {Call("hop", service, operation): 1}

    proxy.inject(operation, service=service, next_n=5)
    with pytest.raises(ClientError) as raised:
        call(_client(service, endpoint, retries=1))
    assert raised.value.response["Error"]["Code"] == code
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == (503 if service == "s3" else 400)
    assert proxy.snapshot()[Call("hop", service, operation)] == 4


def test_a_fraction_is_throttled_evenly_and_faults_are_scoped(
    proxy: AwsProxy, backend: _BackendServer
) -> None:
    """fraction=0.25 throttles exactly one call in four of that hop's operation; other hops pass."""
    endpoint = proxy.listen("a")
    other = proxy.listen("b")
    fault = proxy.inject("PutEvents", hop="a", fraction=0.25)
    events = _client("events", endpoint, retries=0)
    outcomes = []
    for _ in range(8):
        try:
            events.put_events(Entries=ENTRIES)
            outcomes.append("ok")
        except ClientError:
            outcomes.append("throttled")
    _client("events", other, retries=0).put_events(Entries=ENTRIES)
    assert outcomes == ["ok", "ok", "ok", "throttled"] * 2
    assert fault.injected == 2
    assert len(backend.seen.requests) == 7
    proxy.clear_faults()
    proxy.reset()
    events.put_events(Entries=ENTRIES)
    assert proxy.counts() == {"a": {"events:PutEvents": 1}}


def test_operation_names_per_protocol() -> None:
    """X-Amz-Target, Action= (query string or form) and S3's method and path each name the operation."""
    assert operation_of("POST", "/", {"x-amz-target": "AmazonSQS.ReceiveMessage"}, b"") == "ReceiveMessage"
    form = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert operation_of("POST", "/", form, b"Action=SendMessage&Version=2012-11-05") == "SendMessage"
    assert operation_of("GET", "/?Action=ListQueues", {}, b"") == "ListQueues"
    assert operation_of("HEAD", "/bucket/a/b.gz", {}, b"") == "HeadObject"
    assert operation_of("GET", "/bucket?list-type=2&prefix=x", {}, b"") == "ListObjectsV2"
    assert operation_of("POST", "/bucket?delete", {}, b"") == "DeleteObjects"
    assert operation_of("PUT", "/bucket/k?partNumber=1&uploadId=u", {}, b"") == "UploadPart"


def test_bad_arguments_are_refused(proxy: AwsProxy) -> None:
    """A fault needs exactly one of fraction and next_n, in range; the upstream must be http://host:port."""
    with pytest.raises(ValueError, match="exactly one"):
        proxy.inject("PutEvents")
    with pytest.raises(ValueError, match="within"):
        proxy.inject("PutEvents", fraction=1.5)
    with pytest.raises(ValueError, match="upstream"):
        AwsProxy("127.0.0.1:4566")


def test_sustains_hundreds_of_calls_per_second(proxy: AwsProxy) -> None:
    """Four kept-alive clients push 800 small calls through in well under the time a few hundred/s allow."""
    endpoint = urlsplit(proxy.listen("load"))

    def run(_: int) -> None:
        conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
        for _ in range(200):
            conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "AmazonSQS.SendMessage"})
            assert conn.getresponse().read()
        conn.close()

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(run, range(4)))
    elapsed = time.monotonic() - started
    assert proxy.counts() == {"load": {"unknown:SendMessage": 800}}
    assert 800 / elapsed > 300, f"{800 / elapsed:.0f} calls/s"
