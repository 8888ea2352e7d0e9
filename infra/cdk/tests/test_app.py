"""The app as a whole: one stack per manifest, service stacks independent of the core stack, config."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from shared.manifest import ServiceManifest
from tributary_cdk.app import build_app, new_app
from tributary_cdk.config import DeployConfig, FargateCompute, ImageSource, LambdaCompute
from tributary_cdk.constructs.stores import STORES, StoreContext, UnknownServiceError, build_store
from tributary_cdk.naming import core_parameter, dlq_name, queue_name, rule_name, stack_name, topic_name
from tributary_cdk.testing import Synth


def test_one_stack_per_manifest_plus_core(synth: Synth, manifests: dict[str, ServiceManifest]) -> None:
    """The app holds the core stack and exactly one stack per installed service, named after it."""
    assert set(synth.stacks) == {"core", *manifests}
    assert synth.stacks["core"].stack_name == "Tributary-Core"
    for name in manifests:
        assert synth.stacks[name].stack_name == stack_name("tributary", name)
    print(f"\nsynth of {len(synth.stacks)} stacks with cdk-nag: {synth.seconds:.1f} s")


def test_service_stacks_reference_core_only_through_ssm(
    synth: Synth, manifests: dict[str, ServiceManifest]
) -> None:
    """No Fn::ImportValue and no dependency on the core stack: each service stack deploys on its own."""
    core = synth.stacks["core"]
    for name in manifests:
        stack = synth.stacks[name]
        text = json.dumps(synth.template(stack).to_json())
        assert "Fn::ImportValue" not in text
        assert core not in stack.dependencies
        parameters = synth.template(stack).to_json().get("Parameters", {})
        ssm = {
            p["Default"]
            for p in parameters.values()
            if p["Type"].startswith("AWS::SSM::Parameter::Value")
            and not p["Default"].startswith("/cdk-bootstrap/")
        }
        assert ssm, f"{name} reads nothing from the core stack"
        assert ssm <= {core_parameter("tributary", n) for n in _core_parameter_names(synth)}


def _core_parameter_names(synth: Synth) -> set[str]:
    core = synth.template(synth.stacks["core"])
    names = {p["Properties"]["Name"] for p in core.find_resources("AWS::SSM::Parameter").values()}
    return {n.rsplit("/", 1)[-1] for n in names}


def test_names_match_local_provisioning() -> None:
    """Queues, rules and topics carry the names tributary.provision gives them locally."""
    assert queue_name("tributary", "archiver") == "tributary-archiver"
    assert dlq_name("tributary", "archiver") == "tributary-archiver-dlq"
    assert rule_name("tributary", "archiver") == "tributary-archiver"
    assert topic_name("tributary", "notifier", "alerts") == "tributary-notifier-alerts"
    assert stack_name("tributary", "graph_writer") == "Tributary-GraphWriter"
    assert stack_name("blue", "core") == "Tributary-blue-Core"


def test_config_from_context() -> None:
    """The ``tributary`` context key picks compute per service, images and thresholds."""
    config = DeployConfig.from_context(
        {
            "bus_name": "blue",
            "compute": {
                "archiver": {"kind": "lambda", "batch_size": 50},
                "notifier": {"max_tasks": 2},
            },
            "image": {"kind": "registry", "tag": "v1"},
            "alarms": {"oldest_message_age_s": 60},
        }
    )
    assert config.bus_name == "blue"
    assert config.compute_for("archiver") == LambdaCompute(batch_size=50)
    assert config.compute_for("notifier") == FargateCompute(max_tasks=2)
    assert config.compute_for("graph_writer") == FargateCompute()
    assert config.image == ImageSource(kind="registry", tag="v1")
    assert config.alarms.oldest_message_age_s == 60
    assert DeployConfig.from_context(None) == DeployConfig()


@pytest.mark.parametrize(
    ("context", "match"),
    [
        ({"bus": "x"}, "unknown tributary context keys"),
        ({"compute": {"archiver": {"kind": "batch"}}}, "unknown compute kind"),
    ],
)
def test_config_refuses_unknown_context(context: dict[str, object], match: str) -> None:
    """A typo in the context fails the synth instead of silently using a default."""
    with pytest.raises(ValueError, match=match):
        DeployConfig.from_context(context)


def test_unknown_service_has_no_store() -> None:
    """A service without a store construct is refused with the known names."""
    stack = cdk.Stack(cdk.App(), "Scratch")
    context = StoreContext(config=DeployConfig(), service="billing", core=None)  # type: ignore[arg-type]
    with pytest.raises(UnknownServiceError, match=r"'billing'.*known: archiver, graph_writer"):
        build_store(stack, "Nope", service="billing", context=context)
    assert set(STORES) >= {"archiver", "graph_writer", "ingest", "notifier", "timeseries_writer"}


def test_every_installed_service_has_a_store(manifests: dict[str, ServiceManifest]) -> None:
    """The store registry covers every manifest the app would build a stack for."""
    assert set(manifests) <= set(STORES)


def test_http_front_cannot_run_on_lambda(manifests: dict[str, ServiceManifest]) -> None:
    """ingest serves HTTP; asking for Lambda compute is a clear error, not a broken stack."""
    if "ingest" not in manifests:
        pytest.skip("ingest not installed")
    app = new_app()
    config = DeployConfig(
        compute={"ingest": LambdaCompute()},
        image=ImageSource(kind="registry"),
    )
    with pytest.raises(ValueError, match="serves HTTP"):
        build_app(app, config=config, manifests=[manifests["ingest"]], check=False)


def test_lambda_timeout_above_visibility_is_refused(manifests: dict[str, ServiceManifest]) -> None:
    """Lambda refuses an event source whose queue hides messages for less than the function may run."""
    if "archiver" not in manifests:
        pytest.skip("archiver not installed")
    archiver = manifests["archiver"]
    config = DeployConfig(
        compute={"archiver": LambdaCompute(timeout_s=archiver.queue.visibility_timeout_s + 1)},
        image=ImageSource(kind="registry"),
    )
    with pytest.raises(ValueError, match="exceeds the queue's visibility timeout"):
        build_app(new_app(), config=config, manifests=[archiver], check=False)
