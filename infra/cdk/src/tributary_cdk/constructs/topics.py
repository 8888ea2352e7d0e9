"""The SNS topics a service publishes to (``manifest.topics``), named ``<bus>-<svc>-<topic>`` as locally."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from tributary_cdk.constructs.keys import ENCRYPT, grant_key
from tributary_cdk.naming import topic_name


def topic_env_key(topic: str) -> str:
    """``TRIBUTARY_TOPIC_<NAME>_ARN``: the variable provisioning passes a topic's ARN in."""
    return f"TRIBUTARY_TOPIC_{topic.upper()}_ARN"


class ServiceTopics(Construct):
    """One encrypted, TLS-only topic per name."""

    def __init__(
        self, scope: Construct, id: str, *, bus_name: str, service: str, names: Sequence[str], key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self._key = key
        self.topics = {
            name: sns.Topic(
                self,
                name,
                topic_name=topic_name(bus_name, service, name),
                master_key=key,
                enforce_ssl=True,
            )
            for name in names
        }
        self.environment = {topic_env_key(name): t.topic_arn for name, t in self.topics.items()}

    def grant_publish(self, role: iam.IRole) -> None:
        """Publish to these topics only; the key to encrypt the messages."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"], resources=[t.topic_arn for t in self.topics.values()]
            )
        )
        grant_key(self._key, role, *ENCRYPT, "kms:Decrypt")
