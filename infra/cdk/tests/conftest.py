"""Synthesized once per session: the whole app (core + every installed service) with cdk-nag on.

CDK synthesis runs in a node process through jsii and costs seconds, so the tests share one synthesized
app and read its templates; the few variants (Lambda compute, HTTPS front, a service stack alone, the
schema registry) are one more small app.
"""

from __future__ import annotations

import os

# jsii warns on every start that the machine's Node.js is past its end of life; it still works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from collections.abc import Callable

import aws_cdk as cdk
import pytest

from shared.manifest import ServiceManifest, load_manifests
from tributary_cdk.app import Stacks, build_app, default_repo_root, new_app
from tributary_cdk.config import DeployConfig, LambdaCompute
from tributary_cdk.nag import check
from tributary_cdk.stacks.service import ServiceStack
from tributary_cdk.testing import Synth, synthesize

VARIANT_BUS = "variant"
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-000000000000"
LAMBDA_HANDLER = "shared.lambda_entry.handler"
HOOK_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tributary/hooks/ops-AbCdEf"


@pytest.fixture(scope="session")
def manifests() -> dict[str, ServiceManifest]:
    return {m.name: m for m in load_manifests()}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The default app: core stack and every installed service, cdk-nag on; default config but plain HTTP
    on purpose (no certificate) and one webhook secret for the notifier."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = new_app(outdir=str(outdir))
    stacks: Stacks = build_app(
        app, config=DeployConfig(ingest_plain_http=True, notifier_webhook_secret_arns=(HOOK_SECRET,))
    )
    result = synthesize(app, outdir)
    result.stacks = {"core": stacks.core, **stacks.services}
    return result


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory, manifests: dict[str, ServiceManifest]) -> Synth:
    """Service stacks alone (no core stack in the app): archiver on Lambda, ingest behind HTTPS,
    timeseries_writer on the opt-in Timestream for LiveAnalytics."""
    outdir = tmp_path_factory.mktemp("cdk.out.variant")
    app = new_app(outdir=str(outdir))
    config = DeployConfig(
        bus_name=VARIANT_BUS,
        compute={"archiver": LambdaCompute(handler=LAMBDA_HANDLER, batch_size=500, timeout_s=15)},
        ingest_certificate_arn=CERTIFICATE_ARN,
        series_store="liveanalytics",
    )
    env = cdk.Environment(region="eu-west-1")
    stacks = {
        name: ServiceStack(
            app,
            f"{name.title().replace('_', '')}Alone",
            manifest=manifests[name],
            config=config,
            repo_root=default_repo_root(),
            env=env,
        )
        for name in ("archiver", "ingest", "timeseries_writer")
        if name in manifests
    }
    check(app)
    result = synthesize(app, outdir)
    result.stacks = dict(stacks)
    return result


@pytest.fixture(scope="session")
def service_stack(synth: Synth) -> Callable[[str], cdk.Stack]:
    """``service_stack(name)``: the default app's stack of a service; skips when it is not installed."""

    def get(service: str) -> cdk.Stack:
        if service not in synth.stacks:
            pytest.skip(f"service {service} is not installed (no manifest)")
        return synth.stacks[service]

    return get
