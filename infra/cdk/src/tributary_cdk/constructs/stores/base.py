"""What every store construct offers the service stack."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from tributary_cdk.config import DeployConfig
from tributary_cdk.constructs.core_refs import CoreImports


@dataclass(frozen=True, kw_only=True)
class StoreContext:
    """What a store may build on: the deployment, and the core stack's key, network and bus."""

    config: DeployConfig
    service: str
    core: CoreImports

    @property
    def bus_name(self) -> str:
        return self.config.bus_name

    @property
    def key(self) -> kms.IKey:
        return self.core.key

    @property
    def vpc(self) -> ec2.IVpc:
        return self.core.vpc

    @property
    def bus(self) -> events.IEventBus:
        return self.core.bus


class ServiceStore(Construct):
    """A service's store. Subclasses fill :attr:`environment` (and :attr:`secrets`, credentials ECS injects
    from Secrets Manager) and override :meth:`grant`/:meth:`connect`."""

    https_egress_only = False
    """The service needs no outbound traffic but HTTPS (AWS APIs, webhooks): its tasks get no other."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id)
        self.context = context
        self.environment: dict[str, str] = {}
        self.secrets: dict[str, ecs.Secret] = {}

    def grant(self, role: iam.IRole) -> None:
        """Allow ``role`` exactly what the service's store adapter calls (suppressing, with the reason, any
        wildcard that cannot be avoided)."""

    def grant_secrets(self, role: iam.IRole) -> None:
        """Allow ``role``, the one that injects :attr:`secrets` (ECS's execution role), what reading them
        needs beyond ``secretsmanager:GetSecretValue`` (which ECS grants itself): decrypting their key."""

    def connect(self, peer: ec2.IConnectable) -> None:
        """Open the store's network to ``peer`` (stores outside the VPC need nothing)."""
