"""timeseries_writer's stack: Timestream for InfluxDB by default (private, reachable from the service's tasks
only, its tokens injected from Secrets Manager); Timestream for LiveAnalytics as the ``series_store`` opt-in
with the service's retention."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_timestream as timestream
from aws_cdk.assertions import Template

from shared.manifest import ServiceManifest
from tributary_cdk.app import default_repo_root, new_app
from tributary_cdk.config import DeployConfig, LambdaCompute
from tributary_cdk.naming import influxdb_name
from tributary_cdk.stacks.service import ServiceStack
from tributary_cdk.testing import Synth, actions_of, app_container, container_env, resources, role_statements

from .conftest import VARIANT_BUS


@pytest.fixture(scope="module")
def series(synth: Synth, service_stack: Callable[[str], cdk.Stack]) -> Template:
    return synth.template(service_stack("timeseries_writer"))


@pytest.fixture(scope="module")
def liveanalytics(variant: Synth) -> Template:
    if "timeseries_writer" not in variant.stacks:
        pytest.skip("timeseries_writer is not installed")
    return variant.template(variant.stacks["timeseries_writer"])


def _one(template: Template, type_: str) -> tuple[str, dict[str, Any]]:
    (found,) = resources(template, type_).items()
    return found


def _secret_ids(template: Template) -> dict[str, str]:
    """The logical ids of the three secrets, by role: admin, writer, reader."""
    ids = list(resources(template, "AWS::SecretsManager::Secret"))
    by_role = {
        role: [i for i in ids if i.startswith(f"Store{fragment}")]
        for role, fragment in (("admin", "AdminSecret"), ("writer", "WriterToken"), ("reader", "ReaderToken"))
    }
    assert all(len(found) == 1 for found in by_role.values()), ids
    assert len(ids) == 3, ids
    return {role: found[0] for role, found in by_role.items()}


def _task(template: Template) -> dict[str, Any]:
    _, task = _one(template, "AWS::ECS::TaskDefinition")
    return task


# -- default: Timestream for InfluxDB --------------------------------------------------------------------


def test_default_store_is_a_private_influxdb_instance_in_the_isolated_subnets(series: Template) -> None:
    """One instance, no public address, in the core stack's isolated subnets (one per AZ, for the standby),
    TLS port 8086, kept when the stack goes; the admin password is a Secrets Manager dynamic reference."""
    logical_id, instance = _one(series, "AWS::Timestream::InfluxDBInstance")
    props = instance["Properties"]
    assert props["PubliclyAccessible"] is False
    assert props["NetworkType"] == "IPV4"
    assert props["Port"] == 8086
    assert props["DeploymentType"] == "WITH_MULTIAZ_STANDBY"
    assert (props["Name"], props["Organization"], props["Bucket"]) == (
        "tributary-series",
        "tributary",
        "series",
    )
    assert props["AllocatedStorage"] == 20
    assert props["DbStorageType"] == "InfluxIOIncludedT1"
    subnets = props["VpcSubnetIds"]
    assert len(subnets) == 2
    for n, subnet in enumerate(subnets):
        index, (separator, source) = subnet["Fn::Select"][0], subnet["Fn::Select"][1]["Fn::Split"]
        assert (index, separator) == (n, ",")
        assert "coreisolatedsubnetids" in source["Ref"]
    assert instance["DeletionPolicy"] == instance["UpdateReplacePolicy"] == "Retain"
    admin = _secret_ids(series)["admin"]
    assert props["Password"] == {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": admin}, ":SecretString:password::}}"]]
    }
    assert props["Username"] == "admin"
    assert logical_id.startswith("Store")


def test_influxdb_storage_is_encrypted_by_the_service_and_the_secrets_by_the_project_key(
    series: Template,
) -> None:
    """Timestream for InfluxDB always encrypts at rest with KMS and exposes no key or switch for it: should a
    CDK upgrade add one, this fails so the stack sets it. The three secrets use the project's key."""
    properties = set(inspect.signature(timestream.CfnInfluxDBInstance.__init__).parameters)
    assert not {p for p in properties if "kms" in p or "encrypt" in p or "key" in p}, properties
    for secret in resources(series, "AWS::SecretsManager::Secret").values():
        assert "corekeyarn" in secret["Properties"]["KmsKeyId"]["Ref"]
        assert secret["DeletionPolicy"] == "Retain"
    admin = resources(series, "AWS::SecretsManager::Secret")[_secret_ids(series)["admin"]]
    generated = admin["Properties"]["GenerateSecretString"]
    assert generated["ExcludePunctuation"] is True  # the instance takes letters and digits only
    assert 8 <= generated["PasswordLength"] <= 64


def test_only_the_service_tasks_reach_influxdb(series: Template) -> None:
    """The instance's own security group: one ingress rule, TCP 8086 from the ECS service's security
    group; no other source, no outbound."""
    _, instance = _one(series, "AWS::Timestream::InfluxDBInstance")
    ((group_ref,),) = [[g["Fn::GetAtt"][0] for g in instance["Properties"]["VpcSecurityGroupIds"]]]
    group = resources(series, "AWS::EC2::SecurityGroup")[group_ref]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert group["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # CDK's "disallow all"
    _, service = _one(series, "AWS::ECS::Service")
    (task_group,) = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    rules = [
        r["Properties"]
        for r in resources(series, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_ref, "GroupId"]}
    ]
    assert len(rules) == 1
    (rule,) = rules
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8086, 8086)
    assert rule["SourceSecurityGroupId"] == task_group
    assert "CidrIp" not in rule


def test_task_uses_the_influx_store_with_injected_tokens(series: Template) -> None:
    """The environment selects ``influx`` at the instance's TLS endpoint; the writer's and reader's tokens
    come from their secrets through ECS, never from the environment; the admin secret is not the task's."""
    env = container_env(series)
    assert env["TRIBUTARY_STORE"] == "influx"
    instance_id = next(iter(resources(series, "AWS::Timestream::InfluxDBInstance")))
    assert env["TRIBUTARY_INFLUX_URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [instance_id, "Endpoint"]}, ":8086"]]
    }
    assert (env["TRIBUTARY_INFLUX_ORG"], env["TRIBUTARY_INFLUX_BUCKET"]) == ("tributary", "series")
    assert not {k for k in env if "TOKEN" in k or k.startswith("TRIBUTARY_TIMESTREAM")}
    ids = _secret_ids(series)
    secrets = {s["Name"]: s["ValueFrom"] for s in app_container(_task(series))["Secrets"]}
    assert secrets == {
        "TRIBUTARY_INFLUX_TOKEN": {"Ref": ids["writer"]},
        "TRIBUTARY_INFLUX_READER_TOKEN": {"Ref": ids["reader"]},
    }
    assert ids["admin"] not in str(_task(series))
    outputs = series.to_json()["Outputs"]
    assert {"InfluxEndpoint", "InfluxAdminSecretArn", "InfluxWriterTokenSecretArn"} <= set(outputs)
    assert {"InfluxReaderTokenSecretArn", "InfluxSecurityGroupId"} <= set(outputs)


def test_only_the_execution_role_reads_exactly_the_two_token_secrets(series: Template) -> None:
    """ECS injects the tokens with the execution role: GetSecretValue on those two secrets only, and
    kms:Decrypt only through Secrets Manager. No role may read the admin secret; the task role has no
    Secrets Manager and no Timestream rights (InfluxDB authorizes by token)."""
    ids = _secret_ids(series)
    execution = role_statements(series, "ExecutionRole")
    reading = [s for s in execution if any(a.startswith("secretsmanager:") for a in actions_of(s))]
    assert len(reading) == 1
    (statement,) = reading
    assert "secretsmanager:GetSecretValue" in actions_of(statement)
    assert set(actions_of(statement)) <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert sorted(r["Ref"] for r in statement["Resource"]) == sorted([ids["reader"], ids["writer"]])
    (decrypt,) = [s for s in execution if "kms:Decrypt" in actions_of(s)]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }
    task_actions = {a for s in role_statements(series, "TaskRole") for a in actions_of(s)}
    assert not {a for a in task_actions if a.startswith(("secretsmanager:", "timestream:"))}
    everything = [
        s
        for p in resources(series, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert ids["admin"] not in str(everything)


def test_no_liveanalytics_by_default(series: Template) -> None:
    types = {r["Type"] for r in series.to_json()["Resources"].values()}
    assert not {"AWS::Timestream::Database", "AWS::Timestream::Table"} & types


# -- opt-in: Timestream for LiveAnalytics ----------------------------------------------------------------


def test_liveanalytics_opt_in_has_no_influxdb(liveanalytics: Template) -> None:
    """``series_store: liveanalytics``: the database and table, and no InfluxDB instance, secret or
    injected credential."""
    types = {r["Type"] for r in liveanalytics.to_json()["Resources"].values()}
    assert {"AWS::Timestream::Database", "AWS::Timestream::Table"} <= types
    assert not {"AWS::Timestream::InfluxDBInstance", "AWS::SecretsManager::Secret"} & types
    assert "Secrets" not in app_container(_task(liveanalytics))


def test_table_keeps_24_hours_in_memory_and_a_year_on_magnetic(liveanalytics: Template) -> None:
    """Retention from timeseries_writer.manifest.RETENTION; magnetic writes on for late points."""
    from timeseries_writer.manifest import RETENTION

    assert (RETENTION.memory_store_hours, RETENTION.magnetic_store_days) == (24, 365)
    liveanalytics.has_resource_properties(
        "AWS::Timestream::Table",
        {
            "DatabaseName": VARIANT_BUS,
            "TableName": "series",
            "RetentionProperties": {
                "MemoryStoreRetentionPeriodInHours": "24",
                "MagneticStoreRetentionPeriodInDays": "365",
            },
            "MagneticStoreWriteProperties": {"EnableMagneticStoreWrites": True},
        },
    )
    (database,) = resources(liveanalytics, "AWS::Timestream::Database").values()
    assert "corekeyarn" in str(database["Properties"]["KmsKeyId"])


def test_role_writes_records_to_its_table_only(liveanalytics: Template) -> None:
    """WriteRecords and Select (the read API) on the table, its ARN built from database and table name (not
    the resource's Arn attribute, which an emulator mocking Timestream leaves `unknown`); DescribeEndpoints
    (resource '*' is all IAM allows for it)."""
    timestream_actions = {
        action: s["Resource"]
        for s in role_statements(liveanalytics, "TaskRole")
        for action in actions_of(s)
        if action.startswith("timestream:")
    }
    assert timestream_actions.pop("timestream:DescribeEndpoints") == "*"
    assert timestream_actions["timestream:Select"] == timestream_actions["timestream:WriteRecords"]
    table_arn = timestream_actions.pop("timestream:WriteRecords")
    assert list(timestream_actions) == ["timestream:Select"]
    joined = "".join(
        p if isinstance(p, str) else "<" + next(iter(p.values())) + ">" for p in table_arn["Fn::Join"][1]
    )
    assert joined == (
        f"arn:<AWS::Partition>:timestream:eu-west-1:<AWS::AccountId>:database/{VARIANT_BUS}/table/series"
    )


def test_environment_selects_timestream(liveanalytics: Template) -> None:
    env = container_env(liveanalytics)
    assert env["TRIBUTARY_STORE"] == "timestream"
    assert env["TRIBUTARY_TIMESTREAM_DATABASE"] == VARIANT_BUS
    assert env["TRIBUTARY_TIMESTREAM_TABLE"] == "series"
    assert not {k for k in env if k.startswith("TRIBUTARY_INFLUX")}


# -- choices refused at synth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"series_store": "timestream"}, "series_store 'timestream': one of influxdb, liveanalytics"),
        ({"max_azs": 1}, "influxdb_multi_az needs subnets in two availability zones"),
        ({"influxdb_storage_gib": 10}, "influxdb_storage_gib 10: at least 20 GiB"),
    ],
)
def test_impossible_series_choices_are_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeployConfig.from_context(context)


def test_one_az_is_fine_without_the_standby_or_with_liveanalytics() -> None:
    assert DeployConfig.from_context({"max_azs": 1, "influxdb_multi_az": False}).max_azs == 1
    assert DeployConfig.from_context({"max_azs": 1, "series_store": "liveanalytics"}).max_azs == 1


def test_influxdb_on_lambda_is_refused(tmp_path: Path, manifests: dict[str, ServiceManifest]) -> None:
    """Lambda cannot inject the tokens from Secrets Manager as ECS does: synth says so, and the way out."""
    if "timeseries_writer" not in manifests:
        pytest.skip("timeseries_writer is not installed")
    app = new_app(outdir=str(tmp_path))
    config = DeployConfig(compute={"timeseries_writer": LambdaCompute()})
    with pytest.raises(
        ValueError, match=r"TRIBUTARY_INFLUX_READER_TOKEN, TRIBUTARY_INFLUX_TOKEN.*liveanalytics"
    ):
        ServiceStack(
            app,
            "TimeseriesWriterOnLambda",
            manifest=manifests["timeseries_writer"],
            config=config,
            repo_root=default_repo_root(),
        )


@pytest.mark.parametrize(
    ("bus", "expected"),
    [
        ("tributary", "tributary-series"),
        ("my_bus--2", "my-bus-2-series"),
        ("9lives", "t-9lives-series"),
        ("a" * 39, "a" * 39),
        ("b" * 38 + "-x", "b" * 38 + "-x"),
    ],
)
def test_influxdb_names_fit_the_api(bus: str, expected: str) -> None:
    """A letter first, letters and digits in groups joined by single hyphens, at most 40 characters."""
    assert influxdb_name(bus, "series") == expected
