"""Talking to a running stack from its description (``stack.json``): publish, read the archive, queues.

Only the description's endpoints are used, never emulator internals, so the same code reads a LocalStack
stack, a MiniStack one or a deployed one on AWS (``aws_endpoint`` null: the standard credential chain).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from archiver.domain import PREFIX
from tributary.aws import ClientFactory, stack_client
from tributary.lake.archive import fetch, lines, list_objects
from tributary.operators.scan import queue_counts

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

API_KEY_ENV = "TRIBUTARY_API_KEY"


@dataclass(kw_only=True)
class PublishResult:
    """What ingest answered for a set of events, merged over requests."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


class StackClient:
    """A running stack, reached through the endpoints in its description."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.description = description
        self._clients: dict[str, Any] = {}

    @property
    def aws(self) -> ClientFactory:
        """``aws(service)``: the stack's client for ``service``, built once (typed per service)."""
        return self._aws

    def _aws(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = stack_client(
                service, self.description.get("aws_endpoint"), region=self.description["region"]
            )
        return self._clients[service]

    def ingest_headers(self) -> dict[str, str]:
        """The headers that authenticate as the description's producer (``producer.key`` in
        ``stack.json``, else ``$TRIBUTARY_API_KEY``); none when there is no key."""
        key = (self.description.get("producer") or {}).get("key") or os.environ.get(API_KEY_ENV)
        return {"authorization": f"Bearer {key}"} if key else {}

    def publish(self, events: Sequence[dict[str, Any]], *, per_request: int = 500) -> PublishResult:
        """POST ``events`` to ingest in requests of ``per_request``, as the description's producer; indices
        are over all ``events``."""
        result = PublishResult()
        url = self.description["ingest_url"]
        with httpx.Client(base_url=url, timeout=60, headers=self.ingest_headers()) as http:
            for start in range(0, len(events), per_request):
                response = http.post("/v1/events", json={"events": list(events[start : start + per_request])})
                result.statuses[response.status_code] += 1
                body = response.json()
                for key in ("accepted", "rejected"):
                    for item in body.get(key, []):
                        getattr(result, key).append(item | {"index": item["index"] + start})
        return result

    def archived(self, prefix: str = f"{PREFIX}/") -> Iterator[tuple[str, dict[str, Any]]]:
        """Every archived envelope as ``(object key, envelope)``, as the JSON it was archived as."""
        s3 = self.aws("s3")
        bucket = self.description["bucket"]
        for obj in list_objects(s3, bucket, prefix):
            for _, line in lines(fetch(s3, bucket, obj), obj.key):
                yield obj.key, json.loads(line)

    def queue_depth(self, url: str) -> int:
        """Visible plus in-flight plus delayed messages."""
        return queue_counts(self.aws("sqs"), url).total

    def depths(self) -> dict[str, dict[str, int]]:
        """``{service: {"queue": n, "dlq": n}}`` for every worker."""
        return {
            name: {"queue": self.queue_depth(q["url"]), "dlq": self.queue_depth(q["dlq_url"])}
            for name, q in self.description["queues"].items()
        }

    def dead_letters(self, service: str, *, max_messages: int = 10) -> list[MessageTypeDef]:
        """Receive (without deleting) up to ``max_messages`` from a service's DLQ, with their attributes."""
        sqs = self.aws("sqs")
        url = self.description["queues"][service]["dlq_url"]
        out: list[MessageTypeDef] = []
        while len(out) < max_messages:
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, max_messages - len(out)),
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                VisibilityTimeout=5,
            ).get("Messages", [])
            if not got:
                break
            out.extend(got)
        return out
