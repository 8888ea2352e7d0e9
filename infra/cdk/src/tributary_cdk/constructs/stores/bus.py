"""ingest's side of the bus: it owns no store, it publishes (PutEvents) to the core stack's bus, and it
reads its producers' credentials (API key hashes) from a Secrets Manager secret of its own."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tributary_cdk.constructs.keys import DECRYPT, grant_key
from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext
from tributary_cdk.nag import Suppression, suppress

EMPTY_CREDENTIALS = '{"version": 1, "producers": {}}'
"""The credential document with no producers (``shared.credentials``): no key works until one is added."""


class BusPublisher(ServiceStore):
    """The bus name for the settings, the right to put events on that bus only, and the producers' secret
    (``tributary producers add --store secretsmanager:<arn>`` manages it; ingest re-reads it every few
    seconds)."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        self.credentials = secretsmanager.Secret(
            self,
            "Producers",
            secret_name=f"{context.bus_name}/ingest/producers",
            description="Tributary ingest: producers, their allowed sources and types, API key hashes",
            encryption_key=context.key,
            secret_string_value=cdk.SecretValue.unsafe_plain_text(EMPTY_CREDENTIALS),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        suppress(
            self.credentials,
            Suppression(
                rule="SMG4",
                reason="The secret holds hashes of producer API keys, not a credential Secrets Manager could"
                " rotate: each producer rotates its own keys (two may be active) with `tributary producers`.",
            ),
        )
        self.environment = {
            "TRIBUTARY_BUS_NAME": context.bus_name,
            "TRIBUTARY_AUTH_STORE": f"secretsmanager:{self.credentials.secret_arn}",
        }
        cdk.CfnOutput(self, "ProducersSecretArn", value=self.credentials.secret_arn)

    def grant(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.context.bus.event_bus_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[self.credentials.secret_arn]
            )
        )
        grant_key(self.context.key, role, *DECRYPT)
