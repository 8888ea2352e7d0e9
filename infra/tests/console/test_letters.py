"""Recent dead letters for the page, read through the operators' letter decoding."""

from __future__ import annotations

from typing import Any

from infra.tests.operators.conftest import reason_attributes
from shared.testkit.envelopes import envelope, rule_body
from tributary.console.letters import recent_letters, redrive_command
from tributary.console.source import StackSource, cli_location
from tributary.paths import default_data_dir


def test_letters_carry_reasons_and_redrive_commands_but_no_body(
    source: StackSource, description: dict[str, Any], sqs: Any
) -> None:
    """Each non-empty DLQ lists its letters with reason and error; nothing is consumed."""
    event = envelope(data={**envelope().data, "secret": "x-payload"})
    dlq = description["queues"]["archiver"]["dlq_url"]
    sqs.send_message(
        QueueUrl=dlq, MessageBody=rule_body(event), MessageAttributes=reason_attributes("slowdown")
    )

    answer = recent_letters(source)

    assert answer["errors"] == []
    [queue] = answer["queues"]
    assert queue["service"] == "archiver" and queue["depth"] == 1
    assert queue["redrive"] == "tributary dlq redrive archiver --region us-east-1 --bus tributary"
    [row] = queue["letters"]
    assert row["event_id"] == event.id and row["type"] == "sensor.reading.v1"
    assert (row["reason"], row["error_type"]) == ("retries_exhausted", "RetryableError")
    assert row["redrive"].endswith(f"--filter id={event.id}")
    assert "x-payload" not in str(answer)
    attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"  # released, not consumed


def test_no_letters_no_queues(source: StackSource) -> None:
    assert recent_letters(source) == {"queues": [], "errors": []}


def test_cli_location_names_the_stack() -> None:
    """No option for the default local folder, --data-dir for another, --region/--bus on AWS."""
    local = {"aws_endpoint": "http://127.0.0.1:4566", "bus_name": "tributary"}
    assert cli_location(local | {"data_dir": str(default_data_dir().resolve())}) == []
    assert cli_location(local | {"data_dir": "/srv/stack"}) == ["--data-dir", "/srv/stack"]
    aws = {"aws_endpoint": None, "region": "eu-west-1", "bus_name": "prod"}
    assert cli_location(aws) == ["--region", "eu-west-1", "--bus", "prod"]


def test_redrive_command_quotes_what_needs_it() -> None:
    assert redrive_command("a", ["--data-dir", "my stack"]) == "tributary dlq redrive a --data-dir 'my stack'"
