"""SNS adapter of :class:`~notifier.ports.NotificationChannel`: publish to the notifier's alerts topic.

Subscribers attach in AWS (email, SMS, HTTPS, SQS, Lambda). The message is sent with
``MessageStructure=json``: people (email, SMS, the default) get one line of text, machines (SQS, HTTPS,
Lambda, Firehose) the notification's JSON document, with the delivery id to dedupe on. On a FIFO topic the
delivery id is also the ``MessageDeduplicationId``, so SNS itself drops a resend within five minutes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from notifier.model import Notification
from notifier.rules.ruleset import SNS
from shared.errors import PermanentError, RetryableError

_PERMANENT = frozenset({"InvalidParameter", "InvalidParameterValue", "AuthorizationError", "NotFound"})
_MACHINES = ("sqs", "https", "http", "lambda", "firehose", "application")


def text_of(notification: Notification) -> str:
    """One line for people: ``[critical] device-silent (dev-0042): no reading from dev-0042 for 15m``."""
    alert = notification.alert
    return f"[{alert.severity}] {alert.rule} ({alert.subject}): {alert.message}"


def subject_of(notification: Notification) -> str:
    """The email subject: printable ASCII, one line, under 100 characters, as SNS requires."""
    alert = notification.alert
    text = re.sub(r"[^\x20-\x7e]+", "?", f"[{alert.severity}] {alert.rule}: {alert.subject}")
    return text if len(text) < 100 else text[:96] + "..."


class SnsChannel:
    """Publishes to one topic through an injected boto3 ``sns`` client."""

    def __init__(self, *, client: Any, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    @property
    def name(self) -> str:
        return SNS

    def send(self, notification: Notification) -> None:
        alert = notification.alert
        document = json.dumps(notification.document(), ensure_ascii=False, sort_keys=True)
        text = text_of(notification)
        message = {"default": text, "email": text, "sms": text[:140]} | {p: document for p in _MACHINES}
        kwargs: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Message": json.dumps(message, ensure_ascii=False),
            "MessageStructure": "json",
            "Subject": subject_of(notification),
            "MessageAttributes": {
                "severity": {"DataType": "String", "StringValue": alert.severity},
                "rule": {"DataType": "String", "StringValue": alert.rule},
                "delivery_id": {"DataType": "String", "StringValue": notification.delivery_id},
            },
        }
        if self.topic_arn.endswith(".fifo"):
            kwargs |= {"MessageGroupId": alert.rule, "MessageDeduplicationId": notification.delivery_id}
        try:
            self._client.publish(**kwargs)
        except ClientError as exc:
            error = f"SNS publish to {self.topic_arn} failed: {exc}"
            if exc.response["Error"]["Code"] in _PERMANENT:
                raise PermanentError(error) from exc
            raise RetryableError(error) from exc
        except BotoCoreError as exc:
            raise RetryableError(f"SNS publish to {self.topic_arn} failed: {exc}") from exc
