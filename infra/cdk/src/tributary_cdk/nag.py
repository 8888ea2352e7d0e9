"""cdk-nag: the AwsSolutions pack over every stack, and acknowledgments that must carry their reason.

cdk-nag 3 is a CDK policy-validation plugin: ``app.synth()`` fails with ``ValidationFailed`` (and writes
``validation-report.json`` to the cloud assembly) when any rule reports an error that is not acknowledged.
An acknowledgment names the rule, says why the finding does not apply, and where it can, narrows itself to
the exact finding (``applies_to``: ``AwsSolutions-IAM5[Resource::*]``), so a new wildcard elsewhere in the
same policy is still reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"
MIN_REASON = 20


@dataclass(frozen=True, kw_only=True)
class Suppression:
    """One justified exception to a rule, optionally narrowed to some findings."""

    rule: str
    reason: str
    applies_to: Sequence[str] = ()

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < MIN_REASON:
            raise ValueError(f"{PACK}-{self.rule}: say why the finding does not apply, not {self.reason!r}")

    def ids(self) -> list[str]:
        rule = f"{PACK}-{self.rule}"
        return [f"{rule}[{finding}]" for finding in self.applies_to] or [rule]


def suppress(construct: IConstruct, *suppressions: Suppression) -> None:
    """Acknowledge findings on ``construct`` and everything under it."""
    validations = cdk.Validations.of(construct)
    for s in suppressions:
        validations.acknowledge(*(cdk.Acknowledgment(id=id_, reason=s.reason) for id_ in s.ids()))


def check(app: cdk.App) -> None:
    """Run the AwsSolutions pack over every stack of ``app`` when it synthesizes."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
