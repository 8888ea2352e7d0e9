"""The lean JSON caller against a scripted HTTP server on 127.0.0.1: what it sends, retries and raises."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, HTTPClientError
from tenacity import wait_none

from shared.aws import service_unavailable
from shared.awsjson import JsonApi, SigV4
from shared.putevents import PutEventsSender

Reply = tuple[int, dict[str, str], bytes]


class Scripted:
    """Answers each request with the next scripted reply (the last one repeats) and keeps what it got."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [(200, {}, b"{}")]
        self.requests: list[tuple[dict[str, str], bytes]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                scripted.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers, reply = (
                    scripted.replies.pop(0) if len(scripted.replies) > 1 else scripted.replies[0]
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    thread = threading.Thread(target=scripted.server.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def api(url: str, slept: list[float], attempts: int = 3) -> JsonApi:
    return JsonApi(
        endpoint=url,
        region="eu-west-1",
        signing_name="sqs",
        target_prefix="AmazonSQS",
        json_version="1.0",
        credentials=Credentials("AKIDEXAMPLE", "secret", "session-token"),
        max_attempts=attempts,
        sleep=slept.append,
    )


def test_a_call_is_signed_json_with_its_target(server: Scripted) -> None:
    """The body is the parameters as JSON; the headers name the operation and carry a SigV4 signature."""
    server.replies = [(200, {}, json.dumps({"Messages": [{"MessageId": "m1"}]}).encode())]
    answer = api(server.url, []).call("ReceiveMessage", {"QueueUrl": "q", "MaxNumberOfMessages": 10})
    assert answer == {"Messages": [{"MessageId": "m1"}]}
    [(headers, body)] = server.requests
    assert json.loads(body) == {"QueueUrl": "q", "MaxNumberOfMessages": 10}
    assert headers["x-amz-target"] == "AmazonSQS.ReceiveMessage"
    assert headers["content-type"] == "application/x-amz-json-1.0"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/sqs/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == "session-token"


def test_throttling_and_server_faults_are_retried_until_an_answer(server: Scripted) -> None:
    """A throttled call (by JSON ``__type`` or the query-error header) and a 500 are tried again."""
    throttled = json.dumps({"__type": "com.amazonaws.sqs#ThrottlingException", "message": "slow"}).encode()
    server.replies = [
        (400, {}, throttled),
        (400, {"x-amzn-query-error": "RequestThrottled;Sender"}, b"{}"),
        (500, {}, b"oops"),
        (200, {}, b'{"Successful": []}'),
    ]
    slept: list[float] = []
    assert api(server.url, slept, attempts=5).call("DeleteMessageBatch", {}) == {"Successful": []}
    assert len(server.requests) == 4
    assert len(slept) == 3 and all(0 <= s <= 20 for s in slept)


def test_a_refusal_raises_at_once_as_botocore_would(server: Scripted) -> None:
    """A client error is not retried: botocore's ClientError, with the code after ``#``, the message and
    the error's other fields, as adapters already read them from a boto3 client."""
    refusal = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "cancelled",
        "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
    }
    server.replies = [(400, {}, json.dumps(refusal).encode())]
    with pytest.raises(ClientError) as raised:
        api(server.url, []).call("TransactWriteItems", {})
    response = raised.value.response
    assert response["Error"] == {"Code": "TransactionCanceledException", "Message": "cancelled"}
    assert response["CancellationReasons"] == refusal["CancellationReasons"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.operation_name == "TransactWriteItems"
    assert len(server.requests) == 1


def test_faults_that_last_raise_after_the_last_attempt(server: Scripted) -> None:
    server.replies = [(503, {}, b"")]
    slept: list[float] = []
    with pytest.raises(ClientError) as raised:
        api(server.url, slept, attempts=3).call("ReceiveMessage", {})
    assert raised.value.response["Error"]["Code"] == "503"
    assert service_unavailable(raised.value)  # what adapters read as a store outage
    assert len(server.requests) == 3 and len(slept) == 2


def test_no_answer_is_a_transport_error_after_its_retries() -> None:
    """Nothing listening: every attempt fails to connect, then botocore's HTTPClientError is raised."""
    slept: list[float] = []
    with pytest.raises(HTTPClientError):
        api("http://127.0.0.1:9", slept, attempts=2).call("ReceiveMessage", {})
    assert len(slept) == 1


PARTIAL = json.dumps({"FailedEntryCount": 1, "Entries": [{"EventId": "a"}, {"ErrorCode": "X"}]}).encode()


def test_put_events_over_the_lean_caller_resends_only_failed_entries(server: Scripted) -> None:
    """ingest's sender on this caller: ``Time`` goes as epoch seconds, and only the entry the bus failed is
    sent again."""
    server.replies = [
        (200, {}, PARTIAL),
        (200, {}, json.dumps({"FailedEntryCount": 0, "Entries": [{"EventId": "b"}]}).encode()),
    ]
    events = JsonApi(
        endpoint=server.url,
        region="eu-west-1",
        signing_name="events",
        target_prefix="AWSEvents",
        json_version="1.1",
        credentials=Credentials("AKIDEXAMPLE", "secret"),
    )
    when = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    entries = [
        {"Source": "s", "DetailType": "t.v1", "Detail": f'{{"n": {i}}}', "Time": when} for i in range(2)
    ]
    sender = PutEventsSender(client=events, wait=wait_none())
    assert sender.send(entries) == []
    first, second = (json.loads(body)["Entries"] for _, body in server.requests)
    assert [e["Detail"] for e in first] == ['{"n": 0}', '{"n": 1}'] and first[0]["Time"] == when.timestamp()
    assert [e["Detail"] for e in second] == ['{"n": 1}']
    assert server.requests[0][0]["x-amz-target"] == "AWSEvents.PutEvents"


@pytest.mark.parametrize("token", [None, "session-token"])
@pytest.mark.parametrize("host", ["sqs.eu-west-1.amazonaws.com", "127.0.0.1:4566"])
def test_the_signature_is_botocores(token: str | None, host: str) -> None:
    """For the same request, time and keys, SigV4 signs exactly as botocore's SigV4Auth does."""
    when = datetime(2026, 12, 7, 23, 59, 58, tzinfo=UTC)
    credentials = Credentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token
    ).get_frozen_credentials()
    body = b'{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/1/q","MaxNumberOfMessages":10}'
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "host": host,
        "x-amz-target": "AmazonSQS.ReceiveMessage",
    }
    SigV4(region="eu-west-1", service="sqs", clock=lambda: when).sign(headers, body, credentials)

    unsigned = {k: v for k, v in headers.items() if k != "authorization"}
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers=unsigned)
    request.context["timestamp"] = headers["x-amz-date"]
    botocore = SigV4Auth(credentials, "sqs", "eu-west-1")
    canonical = botocore.canonical_request(request)
    expected = botocore.signature(botocore.string_to_sign(request, canonical), request)
    assert headers["x-amz-date"] == "20261207T235958Z"
    assert headers["authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/eu-west-1/sqs/aws4_request, "
        f"SignedHeaders={';'.join(sorted(headers.keys() - {'authorization'}))}, Signature={expected}"
    )
    assert headers.get("x-amz-security-token") == token


def test_a_new_day_signs_with_a_new_key() -> None:
    """The cached signing key is the day's: a request after midnight is signed for the new day."""
    days = iter([datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC), datetime(2026, 12, 8, 0, 0, 1, tzinfo=UTC)])
    signer = SigV4(region="eu-west-1", service="sqs", clock=lambda: next(days))
    credentials = Credentials("AKIDEXAMPLE", "secret").get_frozen_credentials()
    first: dict[str, str] = {"host": "h"}
    second: dict[str, str] = {"host": "h"}
    signer.sign(first, b"{}", credentials)
    signer.sign(second, b"{}", credentials)
    assert "/20261207/" in first["authorization"] and "/20261208/" in second["authorization"]
    assert first["authorization"].split("Signature=")[1] != second["authorization"].split("Signature=")[1]
