"""ingest's side of the bus: it owns no store, it publishes (PutEvents) to the core stack's bus."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext


class BusPublisher(ServiceStore):
    """No resources: the bus name for the settings and the right to put events on that bus only."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        self.environment = {"TRIBUTARY_BUS_NAME": context.bus_name}

    def grant(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.context.bus.event_bus_arn])
        )
