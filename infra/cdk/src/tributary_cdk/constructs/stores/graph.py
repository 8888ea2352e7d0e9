"""graph_writer's store: a Neptune (serverless) cluster in the isolated subnets, IAM auth only.

Encrypted with the shared key, backups kept 7 days, deletion protection on, minor versions upgraded
automatically, one instance per availability zone (writer plus readers) so a zone failure fails over. Only
the compute's security group reaches port 8182; requests are SigV4-signed by boto3's ``neptunedata``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_neptune as neptune
from constructs import Construct

from tributary_cdk.constructs.core_refs import ISOLATED_SUBNETS
from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext
from tributary_cdk.nag import Suppression, suppress

PORT = 8182
# openCypher through neptunedata: MERGE/SET write, MATCH reads (read API), DELETE of replaced edges.
DATA_ACTIONS = (
    "neptune-db:DeleteDataViaQuery",
    "neptune-db:ReadDataViaQuery",
    "neptune-db:WriteDataViaQuery",
)


class GraphStore(ServiceStore):
    """The Neptune cluster, its instances, subnet group and security group."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        config = context.config
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=context.vpc,
            description=f"Neptune of {context.bus_name} graph_writer: port {PORT} from its compute only",
            allow_all_outbound=False,
        )
        subnets = neptune.CfnDBSubnetGroup(
            self,
            "Subnets",
            db_subnet_group_description=f"Tributary {context.bus_name} graph: isolated subnets",
            subnet_ids=context.core.subnet_ids(ISOLATED_SUBNETS),
        )
        self.cluster = neptune.CfnDBCluster(
            self,
            "Cluster",
            db_subnet_group_name=subnets.ref,
            vpc_security_group_ids=[self.security_group.security_group_id],
            iam_auth_enabled=True,
            storage_encrypted=True,
            kms_key_id=context.key.key_arn,
            backup_retention_period=7,
            deletion_protection=True,
            copy_tags_to_snapshot=True,
            serverless_scaling_configuration=neptune.CfnDBCluster.ServerlessScalingConfigurationProperty(
                min_capacity=config.neptune_min_capacity, max_capacity=config.neptune_max_capacity
            ),
        )
        self.cluster.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)
        for n in range(config.neptune_instances):
            instance = neptune.CfnDBInstance(
                self,
                f"Instance{n + 1}",
                db_instance_class="db.serverless",
                db_cluster_identifier=self.cluster.ref,
                auto_minor_version_upgrade=True,
            )
            instance.node.add_dependency(self.cluster)
        endpoint = f"https://{self.cluster.attr_endpoint}:{self.cluster.attr_port}"
        self.environment = {"TRIBUTARY_GRAPH_STORE": "neptune", "TRIBUTARY_NEPTUNE_ENDPOINT": endpoint}

    def connect(self, peer: ec2.IConnectable) -> None:
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(PORT), "graph_writer to Neptune")

    def grant(self, role: iam.IRole) -> None:
        """The openCypher data actions on this cluster's databases, nothing administrative."""
        stack = cdk.Stack.of(self)
        databases = (
            f"arn:{cdk.Aws.PARTITION}:neptune-db:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
            f"{self.cluster.attr_cluster_resource_id}/*"
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(DATA_ACTIONS), resources=[databases]))
        suppress(
            role,
            Suppression(
                rule="IAM5",
                reason="Neptune data-access ARNs name a cluster's databases as <cluster-resource-id>/*; the"
                " wildcard covers this one cluster only.",
                applies_to=[
                    f"Resource::arn:<AWS::Partition>:neptune-db:<AWS::Region>:<AWS::AccountId>:"
                    f"<{stack.get_logical_id(self.cluster)}.ClusterResourceId>/*"
                ],
            ),
        )
