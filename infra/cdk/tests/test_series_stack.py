"""timeseries_writer's stack: the Timestream database and table with the service's retention."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tributary_cdk.testing import Synth, actions_of, container_env, resources, role_statements


@pytest.fixture(scope="module")
def series(synth: Synth, service_stack: Callable[[str], cdk.Stack]) -> Template:
    return synth.template(service_stack("timeseries_writer"))


def test_table_keeps_24_hours_in_memory_and_a_year_on_magnetic(series: Template) -> None:
    """Retention from timeseries_writer.manifest.RETENTION; magnetic writes on for late points."""
    from timeseries_writer.manifest import RETENTION

    assert (RETENTION.memory_store_hours, RETENTION.magnetic_store_days) == (24, 365)
    series.has_resource_properties(
        "AWS::Timestream::Table",
        {
            "DatabaseName": "tributary",
            "TableName": "series",
            "RetentionProperties": {
                "MemoryStoreRetentionPeriodInHours": "24",
                "MagneticStoreRetentionPeriodInDays": "365",
            },
            "MagneticStoreWriteProperties": {"EnableMagneticStoreWrites": True},
        },
    )
    (database,) = resources(series, "AWS::Timestream::Database").values()
    assert "corekeyarn" in str(database["Properties"]["KmsKeyId"])


def test_role_writes_records_to_its_table_only(series: Template) -> None:
    """WriteRecords and Select (the read API) on the table; DescribeEndpoints (resource '*' is all IAM
    allows for it)."""
    (table_id,) = resources(series, "AWS::Timestream::Table")
    timestream = {
        action: s["Resource"]
        for s in role_statements(series, "TaskRole")
        for action in actions_of(s)
        if action.startswith("timestream:")
    }
    assert timestream == {
        "timestream:Select": {"Fn::GetAtt": [table_id, "Arn"]},
        "timestream:WriteRecords": {"Fn::GetAtt": [table_id, "Arn"]},
        "timestream:DescribeEndpoints": "*",
    }


def test_environment_selects_timestream(series: Template) -> None:
    env = container_env(series)
    assert env["TRIBUTARY_STORE"] == "timestream"
    assert env["TRIBUTARY_TIMESTREAM_DATABASE"] == "tributary"
    assert env["TRIBUTARY_TIMESTREAM_TABLE"] == "series"
