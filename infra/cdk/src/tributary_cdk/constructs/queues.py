"""A worker's queue and DLQ, as local provisioning builds them, encrypted with the shared key.

The queue redrives to the DLQ after the manifest's ``max_receive_count`` receives (the net under the
runtime, which dead-letters with the reason after fewer attempts); both are SSE-KMS and refuse plain HTTP.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from shared.manifest import QueueSettings
from tributary_cdk.constructs.keys import DECRYPT, ENCRYPT, grant_key
from tributary_cdk.naming import dlq_name, queue_name


class ServiceQueues(Construct):
    """``<bus>-<svc>`` and ``<bus>-<svc>-dlq``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bus_name: str,
        service: str,
        settings: QueueSettings,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        self.settings = settings
        self._key = key
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            queue_name=dlq_name(bus_name, service),
            retention_period=cdk.Duration.seconds(settings.dlq_retention_s),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name(bus_name, service),
            visibility_timeout=cdk.Duration.seconds(settings.visibility_timeout_s),
            retention_period=cdk.Duration.seconds(settings.retention_s),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dlq, max_receive_count=settings.max_receive_count
            ),
        )

    def grant_consume(self, role: iam.IRole) -> None:
        """What the poller calls on its queue: receive, delete, back off (visibility), read attributes."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ],
                resources=[self.queue.queue_arn],
            )
        )
        grant_key(self._key, role, *DECRYPT)

    def grant_dead_letter(self, role: iam.IRole) -> None:
        """The runtime sends failed messages to the DLQ itself, with the reason as attributes."""
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dlq.queue_arn])
        )
        # Sending to an SSE-KMS queue needs both: a data key, and decrypting it when reused.
        grant_key(self._key, role, *ENCRYPT, *DECRYPT)
