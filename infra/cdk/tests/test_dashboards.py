"""The dashboards: an overview in the core stack and one per service stack, built from the EMF metrics the
services emit (namespace ``Tributary``, dimension ``service``) and the SQS and load balancer metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from shared.metrics import NAMESPACE
from tributary_cdk.testing import Synth

WORKERS = ("archiver", "graph_writer", "timeseries_writer", "notifier")


def dashboard(template: Template) -> tuple[str, dict[str, Any]]:
    """The template's one dashboard: its name and its body (tokens inside it as ``TOKEN``)."""
    (resource,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    props = resource["Properties"]
    body = props["DashboardBody"]
    if isinstance(body, dict):
        separator, parts = body["Fn::Join"]
        body = separator.join(p if isinstance(p, str) else "TOKEN" for p in parts)
    return props["DashboardName"], json.loads(body)


def graphs(body: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """Title → the metric arrays of each graph widget."""
    return {
        w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"] if w["type"] == "metric"
    }


def emf(metrics: list[list[Any]]) -> set[tuple[str, str]]:
    """(metric, service) of the EMF metrics among ``metrics``."""
    return {(m[1], m[3]) for m in metrics if m[0] == NAMESPACE and m[2] == "service"}


def stat(metrics: list[list[Any]]) -> set[str]:
    return {m[-1].get("stat") for m in metrics if isinstance(m[-1], dict)}


@pytest.fixture(scope="module")
def overview(synth: Synth) -> tuple[str, dict[str, Any]]:
    return dashboard(synth.template(synth.stacks["core"]))


def test_overview_shows_every_worker_and_ingest(overview: tuple[str, dict[str, Any]], synth: Synth) -> None:
    """Processed and failed per minute, p99 lag, store latency p99 per worker (EMF); DLQ depth and oldest
    message age per worker queue by name; ingest's accepted and rejected."""
    name, body = overview
    assert name == "tributary-overview"
    found = graphs(body)
    workers = [w for w in WORKERS if w in synth.stacks]
    assert emf(found["Processed per minute"]) == {("Processed", w) for w in workers}
    assert emf(found["Failed per minute (retried + dead-lettered)"]) == {("Failed", w) for w in workers}
    lag = found["End-to-end lag p99 (event time → stored)"]
    assert emf(lag) == {("EndToEndLag", w) for w in workers} and stat(lag) == {"p99"}
    assert emf(found["Store latency p99 per batch"]) == {("StoreLatency", w) for w in workers}
    dlqs = {m[3] for m in found["DLQ depth"] if m[1] == "ApproximateNumberOfMessagesVisible"}
    assert dlqs == {f"tributary-{w}-dlq" for w in workers}
    ages = {m[3] for m in found["Oldest message age"] if m[1] == "ApproximateAgeOfOldestMessage"}
    assert ages == {f"tributary-{w}" for w in workers}
    if "ingest" in synth.stacks:
        accepted = found["ingest: events accepted and rejected per minute"]
        assert emf(accepted) == {("Accepted", "ingest"), ("Rejected", "ingest"), ("BusFailures", "ingest")}
    assert all(w["properties"].get("period") == 60 for w in body["widgets"] if w["type"] == "metric")


def test_a_workers_dashboard(service_stack: Callable[[str], cdk.Stack], synth: Synth) -> None:
    """``tributary-archiver``: processed/failed, lag p50/p99, store latency, its DLQ and queue by name."""
    name, body = dashboard(synth.template(service_stack("archiver")))
    assert name == "tributary-archiver"
    found = graphs(body)
    assert emf(found["archiver: processed and failed per minute"]) == {
        ("Processed", "archiver"),
        ("Failed", "archiver"),
    }
    assert stat(found["archiver: end-to-end lag (event time → stored)"]) == {"p50", "p99"}
    assert emf(found["archiver: store latency per batch"]) == {("StoreLatency", "archiver")}
    (dlq,) = found["archiver: DLQ depth"]
    assert dlq[:3] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"]
    (age,) = found["archiver: oldest message age"]
    assert age[1] == "ApproximateAgeOfOldestMessage"
    header = next(w for w in body["widgets"] if w["type"] == "text")
    assert "tributary dlq peek archiver" in header["properties"]["markdown"]


def test_ingests_dashboard(service_stack: Callable[[str], cdk.Stack], synth: Synth) -> None:
    """``tributary-ingest``: events accepted and rejected (EMF), 4xx and 5xx from the load balancer."""
    name, body = dashboard(synth.template(service_stack("ingest")))
    assert name == "tributary-ingest"
    found = graphs(body)
    assert ("Accepted", "ingest") in emf(found["ingest: events accepted and rejected per minute"])
    codes = {m[1] for m in found["ingest: 4xx and 5xx per minute"]}
    assert codes == {
        "HTTPCode_Target_4XX_Count",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_4XX_Count",
        "HTTPCode_ELB_5XX_Count",
    }
    assert stat(found["ingest: request latency"]) == {"p50", "p99"}
