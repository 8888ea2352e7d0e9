"""What the commands act on: a local stack's stack.json, or AWS names resolved with GetQueueUrl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.manifest import ServiceManifest, Subscription
from tributary.operators.target import TargetError, aws_target, local_target
from tributary.stack import StackError


def test_local_target_reads_stack_json(tmp_path: Path) -> None:
    """Bus, bucket, queues, the services it runs and every replica's URL come from stack.json; no calls."""
    (tmp_path / "stack.json").write_text(
        json.dumps(
            {
                "emulator": "ministack",
                "aws_endpoint": "http://127.0.0.1:1",
                "region": "us-east-1",
                "bus_name": "b",
                "bucket": "bkt",
                "queues": {
                    "archiver": {"url": "http://x/q/b-archiver", "dlq_url": "http://x/q/b-archiver-dlq"}
                },
                "services": {"archiver": {"url": "http://s1", "urls": ["http://s1", "http://s2"]}},
            }
        )
    )
    installed = [ServiceManifest(name=n, consumes=(Subscription(type="*"),)) for n in ("archiver", "other")]
    target = local_target(tmp_path, manifests=installed)
    assert target.where == "ministack stack at http://127.0.0.1:1"
    assert (target.bus_name, target.bucket) == ("b", "bkt")
    assert target.queue_pair("archiver").dlq_name == "b-archiver-dlq"
    assert target.health_urls == {"archiver": ["http://s1", "http://s2"]}
    assert target.workers() == ["archiver"]  # "other" is installed but this stack does not run it
    assert target.service_names() == ["archiver"]


def test_no_stack_is_a_clear_error(tmp_path: Path) -> None:
    """Without stack.json: StackError naming the folder."""
    with pytest.raises(StackError, match="no stack running"):
        local_target(tmp_path)


def test_aws_resolves_queues_by_name_and_says_which_are_missing(sqs: Any) -> None:
    """<bus>-<svc> and <bus>-<svc>-dlq via GetQueueUrl; an unknown service names the known ones."""
    sqs.create_queue(QueueName="prod-archiver")
    sqs.create_queue(QueueName="prod-archiver-dlq")
    manifests = [ServiceManifest(name="archiver", consumes=(Subscription(type="*"),))]
    target = aws_target(profile=None, region="us-east-1", bus_name="prod", bucket=None, manifests=manifests)
    assert target.where == "AWS us-east-1"
    pair = target.queue_pair("archiver")
    assert (pair.name, pair.dlq_name) == ("prod-archiver", "prod-archiver-dlq")
    with pytest.raises(TargetError, match=r"no queue 'prod-nobody' \(worker services here: archiver\)"):
        target.queue_pair("nobody")
    with pytest.raises(TargetError, match="--bucket"):
        target.require_bucket()
