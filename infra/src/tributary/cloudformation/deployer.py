"""Deploy one synthesized stack into a CloudFormation endpoint and wait, as ``cdk deploy`` does.

A stack that does not exist is created, one that exists is updated (a template without changes is left as
it is); either way this returns once the stack is ``CREATE_COMPLETE``/``UPDATE_COMPLETE`` and raises with
the failed resources' reasons otherwise. Parameters are the template's own: the SSM-typed ones the CDK
declares (``AWS::SSM::Parameter::Value<String>``) are resolved by CloudFormation from Parameter Store, as
on AWS, so the core stack's parameters must exist first, and ``/cdk-bootstrap/<qualifier>/version`` with
them (:func:`bootstrap`, what ``cdk bootstrap`` leaves behind). A template over CloudFormation's inline
limit (51,200 bytes) is uploaded to the bootstrap bucket and deployed by ``TemplateURL``, as ``cdk deploy``
does.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from botocore.exceptions import ClientError

log = structlog.get_logger(__name__)

BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "21"
# CloudFormation takes at most 51,200 bytes inline (TemplateBody); a larger template goes through S3
# (TemplateURL), to the bucket `cdk bootstrap` creates for it, as `cdk deploy` does.
MAX_TEMPLATE_BODY = 51_200
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS")


class DeployError(RuntimeError):
    """A stack did not reach ``CREATE_COMPLETE`` / ``UPDATE_COMPLETE``."""


@dataclass(frozen=True, kw_only=True)
class DeployedStackInfo:
    """A deployed stack: its status, outputs and resources (logical id → (type, physical id))."""

    name: str
    status: str
    outputs: dict[str, str]
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)
    seconds: float = 0.0

    def physical_ids(self, type_: str) -> list[str]:
        """Physical ids of the stack's resources of ``type_``, in logical id order."""
        return [pid for _, (t, pid) in sorted(self.resources.items()) if t == type_]


@dataclass(frozen=True, kw_only=True)
class Staging:
    """Where templates too large to send inline go: an S3 client and the bootstrap bucket."""

    s3: Any
    bucket: str

    def upload(self, name: str, body: str) -> str:
        """Store ``body`` and return its ``TemplateURL`` (path style, which every endpoint serves)."""
        key = f"templates/{name}/{hashlib.sha256(body.encode()).hexdigest()}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        return f"{self.s3.meta.endpoint_url.rstrip('/')}/{self.bucket}/{key}"


def bootstrap(ssm: Any, s3: Any, *, account: str, region: str) -> Staging:
    """What ``cdk bootstrap`` leaves that a deploy needs: the version parameter every template checks, and
    the staging bucket for templates too large to send inline."""
    ssm.put_parameter(Name=BOOTSTRAP_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True)
    bucket = f"cdk-hnb659fds-assets-{account}-{region}"
    s3.create_bucket(Bucket=bucket)
    return Staging(s3=s3, bucket=bucket)


def deploy_stack(
    cfn: Any,
    name: str,
    template: dict[str, Any],
    *,
    staging: Staging | None = None,
    timeout_s: float = 600.0,
    poll_s: float = 1.0,
) -> DeployedStackInfo:
    """Create or update stack ``name`` from ``template`` and wait until it is complete.

    Raises:
        DeployError: the stack failed or rolled back (the message names each failed resource and why), did
            not finish within ``timeout_s``, or is too large to send inline and there is no ``staging``.
    """
    started = time.monotonic()
    body = json.dumps(template)
    capabilities = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
    if len(body.encode()) <= MAX_TEMPLATE_BODY:
        source = {"TemplateBody": body}
    elif staging is not None:
        source = {"TemplateURL": staging.upload(name, body)}
    else:
        raise DeployError(f"stack {name}: its template ({len(body)} bytes) needs a staging bucket")
    if _exists(cfn, name):
        try:
            cfn.update_stack(StackName=name, Capabilities=capabilities, **source)
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            log.info("stack_unchanged", stack=name)
    else:
        cfn.create_stack(StackName=name, Capabilities=capabilities, **source)
    status = _wait(cfn, name, timeout_s=timeout_s, poll_s=poll_s)
    info = describe(cfn, name, seconds=time.monotonic() - started)
    log.info("stack_deployed", stack=name, status=status, ms=round(info.seconds * 1000))
    return info


def describe(cfn: Any, name: str, *, seconds: float = 0.0) -> DeployedStackInfo:
    """A deployed stack's status, outputs and resources."""
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources = {
        r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId", ""))
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    return DeployedStackInfo(
        name=name, status=stack["StackStatus"], outputs=outputs, resources=resources, seconds=seconds
    )


def _exists(cfn: Any, name: str) -> bool:
    try:
        (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return bool(stack["StackStatus"] != "DELETE_COMPLETE")


def _wait(cfn: Any, name: str, *, timeout_s: float, poll_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    status = "?"
    while time.monotonic() < deadline:
        (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
        status = str(stack["StackStatus"])
        if status in DONE:
            return status
        if status.endswith(FAILED_SUFFIXES):
            raise DeployError(f"stack {name}: {status}{_failures(cfn, name, stack)}")
        time.sleep(poll_s)
    raise DeployError(f"stack {name}: still {status} after {timeout_s:.0f} s")


def _failures(cfn: Any, name: str, stack: dict[str, Any]) -> str:
    reasons = [stack.get("StackStatusReason") or ""]
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        events = []
    for event in events:
        if event.get("ResourceStatus", "").endswith("_FAILED") and event.get("ResourceStatusReason"):
            reasons.append(
                f"{event['LogicalResourceId']} ({event['ResourceType']}): {event['ResourceStatusReason']}"
            )
    return "".join(f"\n  {r}" for r in dict.fromkeys(reasons) if r)
