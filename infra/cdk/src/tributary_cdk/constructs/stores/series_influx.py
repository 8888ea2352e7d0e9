"""timeseries_writer's default store on AWS: a Timestream for InfluxDB instance (InfluxDB 2.x).

The instance lives in the isolated subnets, has no public address, and its own security group admits the
InfluxDB port from the service's tasks only. Timestream for InfluxDB encrypts its storage at rest with KMS
always (it cannot be turned off; the resource has no key property) and serves TLS only, so the service
connects to ``https://<endpoint>:8086``.

Credentials live in Secrets Manager under the project's key:

- the admin's (``username``/``password``, generated here, passed to the instance as a dynamic reference,
  so the password never appears in the template); no task reads it;
- the writer's token (``TRIBUTARY_INFLUX_TOKEN``, to be allowed to write the ``series`` bucket only) and
  the reader's (``TRIBUTARY_INFLUX_READER_TOKEN``, to read it only), injected into the task by ECS: only the
  task's execution role may read those two secrets.

CloudFormation creates InfluxDB's organization, bucket and admin user, but no tokens (they are objects
inside InfluxDB, made through its own API). So the token secrets are created with a random placeholder,
and docs/deploy.md gives the one post-deploy step that mints both tokens and stores them; until then the
writer's calls are refused (401), which the service treats as a store outage: messages wait in its queue,
none is dead-lettered.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_timestream as timestream
from constructs import Construct

from tributary_cdk.constructs.core_refs import ISOLATED_SUBNETS
from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext
from tributary_cdk.nag import Suppression, suppress
from tributary_cdk.naming import influxdb_name

PORT = 8086
BUCKET = "series"
ADMIN_USER = "admin"
STORAGE_TYPE = "InfluxIOIncludedT1"  # 3,000 IOPS included; the smallest, from 20 GiB
PASSWORD_LENGTH = 32  # the API takes 8-64 letters and digits


class InfluxSeriesStore(ServiceStore):
    """The InfluxDB instance, its security group, and its three secrets."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        config = context.config
        self.organization = context.bus_name
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=context.vpc,
            description=f"InfluxDB of {context.bus_name} timeseries_writer: port {PORT} from its tasks only",
            allow_all_outbound=False,
        )
        self.admin_secret = secretsmanager.Secret(
            self,
            "AdminSecret",
            description=f"Tributary {context.bus_name}: the InfluxDB admin (username, password);"
            " no task reads it",
            encryption_key=context.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": ADMIN_USER}),
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=PASSWORD_LENGTH,
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.instance = timestream.CfnInfluxDBInstance(
            self,
            "Instance",
            name=influxdb_name(context.bus_name, BUCKET),
            username=ADMIN_USER,
            # A dynamic reference ({{resolve:secretsmanager:…}}): CloudFormation reads it at deploy time.
            password=self.admin_secret.secret_value_from_json("password").unsafe_unwrap(),
            organization=self.organization,
            bucket=BUCKET,
            db_instance_type=config.influxdb_instance_type,
            db_storage_type=STORAGE_TYPE,
            allocated_storage=config.influxdb_storage_gib,
            deployment_type="WITH_MULTIAZ_STANDBY" if config.influxdb_multi_az else "SINGLE_AZ",
            network_type="IPV4",
            port=PORT,
            publicly_accessible=False,
            vpc_subnet_ids=context.core.subnet_ids(ISOLATED_SUBNETS),
            vpc_security_group_ids=[self.security_group.security_group_id],
        )
        self.instance.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.writer_token = self._token_secret("WriterToken", f"write bucket {BUCKET} only")
        self.reader_token = self._token_secret("ReaderToken", f"read bucket {BUCKET} only")
        suppress(
            self,
            Suppression(
                rule="SMG4",
                reason="These secrets hold credentials that live inside InfluxDB (its admin password, two"
                " API tokens): rotating one means changing it in InfluxDB through its API, which Secrets"
                " Manager does only through AWS's separate InfluxDB rotation Lambda, not deployed here."
                " docs/deploy.md says how to rotate the tokens by minting new ones.",
            ),
        )
        self.environment = {
            "TRIBUTARY_STORE": "influx",
            "TRIBUTARY_INFLUX_URL": f"https://{self.instance.attr_endpoint}:{PORT}",
            "TRIBUTARY_INFLUX_ORG": self.organization,
            "TRIBUTARY_INFLUX_BUCKET": BUCKET,
        }
        self.secrets = {
            "TRIBUTARY_INFLUX_TOKEN": ecs.Secret.from_secrets_manager(self.writer_token),
            "TRIBUTARY_INFLUX_READER_TOKEN": ecs.Secret.from_secrets_manager(self.reader_token),
        }
        for name, value in {
            "InfluxEndpoint": self.instance.attr_endpoint,
            "InfluxAdminSecretArn": self.admin_secret.secret_arn,
            "InfluxWriterTokenSecretArn": self.writer_token.secret_arn,
            "InfluxReaderTokenSecretArn": self.reader_token.secret_arn,
            "InfluxSecurityGroupId": self.security_group.security_group_id,
        }.items():
            cdk.CfnOutput(cdk.Stack.of(self), name, value=value)

    def _token_secret(self, id: str, scope: str) -> secretsmanager.Secret:
        """A secret for one InfluxDB API token, holding a random placeholder until the token is minted."""
        return secretsmanager.Secret(
            self,
            id,
            description=f"Tributary {self.context.bus_name}: the InfluxDB API token of timeseries_writer to"
            f" {scope} (placeholder until minted: docs/deploy.md)",
            encryption_key=self.context.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def grant_secrets(self, role: iam.IRole) -> None:
        """kms:Decrypt on the project's key, only as Secrets Manager's caller (the token secrets use it)."""
        region = cdk.Stack.of(self).region
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.context.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            )
        )

    def connect(self, peer: ec2.IConnectable) -> None:
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(PORT), "timeseries_writer to InfluxDB")

    def grant(self, role: iam.IRole) -> None:
        """Nothing on the task role: InfluxDB authorizes by token, not IAM, and ECS injects the two token
        secrets through the execution role (``secretsmanager:GetSecretValue`` on exactly those)."""
