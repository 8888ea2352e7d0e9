"""Helpers for tests of the CDK app: synthesize without raising, and read what templates grant and set."""

from __future__ import annotations

import json
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template


class RecordingDynamo:
    """Just enough of a DynamoDB client to record what an adapter's ``ensure_table`` creates, so a test can
    compare it with the table a stack declares."""

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}
        self.ttl: dict[str, Any] = {}

    def create_table(self, **kwargs: Any) -> None:
        self.created = kwargs

    def get_waiter(self, name: str) -> Any:
        class Waiter:
            def wait(self, **kwargs: Any) -> None:
                pass

        return Waiter()

    def update_time_to_live(self, **kwargs: Any) -> None:
        self.ttl = kwargs["TimeToLiveSpecification"]


@dataclass(kw_only=True)
class Synth:
    """A synthesized app: its stacks, where its assembly is, and whether validation passed."""

    app: cdk.App
    outdir: Path
    error: str | None
    seconds: float
    output: str
    stacks: dict[str, cdk.Stack] = field(default_factory=dict)

    def template(self, stack: cdk.Stack) -> Template:
        """The stack's synthesized template."""
        path = self.outdir / f"{stack.artifact_id}.template.json"
        return Template.from_json(json.loads(path.read_text(encoding="utf-8")))

    def assets(self, stack: cdk.Stack) -> dict[str, Any]:
        """The stack's asset manifest (files and Docker images to build and publish)."""
        path = self.outdir / f"{stack.artifact_id}.assets.json"
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return manifest

    def report(self) -> dict[str, Any]:
        """``validation-report.json`` (written when a validation plugin reported anything)."""
        path = self.outdir / "validation-report.json"
        if not path.exists():
            return {"pluginReports": []}
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return report


def synthesize(app: cdk.App, outdir: Path) -> Synth:
    """``app.synth()``, keeping a validation failure (cdk-nag) as data instead of raising."""
    started = time.monotonic()
    printed = StringIO()
    error = None
    with redirect_stdout(printed):  # the validation plugins print their report
        try:
            app.synth()
        except RuntimeError as exc:
            error = str(exc)
    return Synth(
        app=app, outdir=outdir, error=error, seconds=time.monotonic() - started, output=printed.getvalue()
    )


def resources(template: Template, type_: str) -> dict[str, Any]:
    """The resources of ``type_``, by logical id."""
    return dict(template.find_resources(type_))


def app_container(task: dict[str, Any]) -> dict[str, Any]:
    """The service's own container of a task definition (beside it: the X-Ray daemon)."""
    containers: list[dict[str, Any]] = task["Properties"]["ContainerDefinitions"]
    (container,) = [c for c in containers if c["Name"] == "app"]
    return container


def container_env(template: Template) -> dict[str, Any]:
    """The environment of the stack's single task definition or function."""
    tasks = resources(template, "AWS::ECS::TaskDefinition")
    if tasks:
        (task,) = tasks.values()
        return {e["Name"]: e["Value"] for e in app_container(task)["Environment"]}
    (function,) = resources(template, "AWS::Lambda::Function").values()
    env: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return env


def role_statements(template: Template, role_fragment: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to roles whose logical id contains ``role_fragment``."""
    statements: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = [r["Ref"] for r in policy["Properties"].get("Roles", [])]
        if any(role_fragment in r for r in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions_of(statement: dict[str, Any]) -> list[str]:
    """A statement's actions as a list."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)
