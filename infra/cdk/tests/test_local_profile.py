"""The local profile (``tributary deploy-local``): each difference from the AWS profile, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.manifest import ServiceManifest
from tributary_cdk.app import build_app, new_app
from tributary_cdk.config import DeployConfig
from tributary_cdk.limits import violations
from tributary_cdk.testing import Synth, synthesize

LOCAL_SERVICES = ("graph_writer", "timeseries_writer", "archiver")
TUNING = {"TRIBUTARY_BATCH_MAX_WAIT_MS": "1000"}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, manifests: dict[str, ServiceManifest]) -> Synth:
    chosen = [manifests[n] for n in LOCAL_SERVICES if n in manifests]
    if len(chosen) < len(LOCAL_SERVICES):
        pytest.skip("graph_writer, timeseries_writer and archiver must be installed")
    outdir = tmp_path_factory.mktemp("cdk.out.local")
    app = new_app(outdir=str(outdir))
    config = DeployConfig.from_context({"profile": "local", "settings": {"archiver": TUNING}})
    build_app(app, config=config, manifests=chosen)
    return synthesize(app, outdir)


def _templates(synth: Synth) -> dict[str, dict[str, Any]]:
    paths = sorted(Path(synth.outdir).glob("*.template.json"))
    return {p.name.removesuffix(".template.json"): json.loads(p.read_text(encoding="utf-8")) for p in paths}


def _types(template: dict[str, Any]) -> set[str]:
    return {r["Type"] for r in template["Resources"].values()}


def _env(template: dict[str, Any]) -> dict[str, str]:
    (task,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    (app,) = [c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "app"]
    return {e["Name"]: e["Value"] for e in app["Environment"]}


def test_the_local_profile_synthesizes_clean(local: Synth) -> None:
    assert local.error is None, local.error
    templates = _templates(local)
    assert {name: [str(v) for v in violations(t)] for name, t in templates.items() if violations(t)} == {}


def test_no_nat_gateway_and_registry_images(local: Synth) -> None:
    templates = _templates(local)
    assert not {"AWS::EC2::NatGateway", "AWS::EC2::EIP"} & _types(templates["Tributary-Core"])
    assert not list(Path(local.outdir).glob("asset.*")), "the local profile builds no image asset"
    image = json.dumps(templates["Tributary-Archiver"])
    assert "tributary-archiver:latest" in image


def test_graph_and_series_use_their_embedded_stores(local: Synth) -> None:
    templates = _templates(local)
    graph, series = templates["Tributary-GraphWriter"], templates["Tributary-TimeseriesWriter"]
    assert not {t for t in _types(graph) if t.startswith("AWS::Neptune::")}
    assert not {t for t in _types(series) if t.startswith("AWS::Timestream::")}
    assert _env(graph)["TRIBUTARY_GRAPH_STORE"] == "falkordb"
    assert "TRIBUTARY_NEPTUNE_ENDPOINT" not in _env(graph)
    assert _env(series)["TRIBUTARY_STORE"] == "duckdb"


def test_settings_reach_the_task_definition(local: Synth) -> None:
    templates = _templates(local)
    assert _env(templates["Tributary-Archiver"]).items() >= TUNING.items()
    assert "TRIBUTARY_BATCH_MAX_WAIT_MS" not in _env(templates["Tributary-GraphWriter"])


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"profile": "local", "nat_gateways": 1}, "no NAT gateway"),
        ({"profile": "local", "image": {"kind": "asset"}}, "registry images"),
        ({"settings": {"archiver": {"BATCH": "1"}}}, "not TRIBUTARY_"),
    ],
)
def test_contradicting_configs_are_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeployConfig.from_context(context)
