"""cdk-nag AwsSolutions over every stack: no unacknowledged finding, every acknowledgment with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from tributary_cdk.app import new_app
from tributary_cdk.nag import Suppression, check
from tributary_cdk.testing import Synth, synthesize


def _violations(synth: Synth, *, severity: str | None = None) -> list[dict[str, Any]]:
    found = []
    for plugin in synth.report()["pluginReports"]:
        for violation in plugin.get("violations", []):
            if severity is None or violation.get("severity") == severity:
                paths = [c["constructPath"] for c in violation.get("violatingConstructs", [])]
                found.append({"plugin": plugin["pluginName"], "rule": violation["ruleName"], "at": paths})
    return found


def test_default_app_passes_aws_solutions(synth: Synth) -> None:
    """Synthesis (which runs the AwsSolutions pack) succeeds and reports no error."""
    assert synth.error is None, _violations(synth)
    assert [v for v in _violations(synth) if v["plugin"] == "AwsSolutions"] == []


def test_default_app_has_no_validation_warnings(synth: Synth) -> None:
    """Neither cdk-nag nor CloudFormation validation warns (unused parameters, deprecations)."""
    assert _violations(synth) == []


def test_service_stacks_alone_pass_aws_solutions(variant: Synth) -> None:
    """Service stacks synthesize and pass without the core stack in the app (Lambda and HTTPS variants)."""
    assert variant.error is None, _violations(variant)
    assert _violations(variant) == []
    print(f"\nsynth of {len(variant.stacks)} standalone service stacks with cdk-nag: {variant.seconds:.1f} s")


def test_suppression_needs_a_reason() -> None:
    """A suppression without a real reason is refused at construction."""
    with pytest.raises(ValueError, match="say why"):
        Suppression(rule="IAM5", reason="needed")


def test_suppression_narrowed_to_findings() -> None:
    """``applies_to`` makes one acknowledgment id per finding, so other wildcards still fail."""
    suppression = Suppression(
        rule="IAM5", reason="a reason of reasonable length", applies_to=["Resource::*", "Action::s3:*"]
    )
    assert suppression.ids() == ["AwsSolutions-IAM5[Resource::*]", "AwsSolutions-IAM5[Action::s3:*]"]


def test_a_finding_fails_the_synth(tmp_path: Path) -> None:
    """The pack is live: an unencrypted queue without a DLQ makes synthesis fail, naming the rules."""
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    check(app)
    result = synthesize(app, tmp_path)
    assert result.error is not None and "ValidationFailed" in result.error
    rules = {v["rule"] for v in _violations(result) if v["plugin"] == "AwsSolutions"}
    assert {"AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules
