"""The CDK app: ``cdk synth`` in ``infra/cdk`` (``cdk.json`` runs ``python -m tributary_cdk.app``).

One core stack for the bus, then one stack per installed service manifest (``load_manifests()``): synthesize
or deploy any one of them alone (``cdk deploy Tributary-Archiver``). The ``tributary`` context key carries
the deployment's choices (:class:`~tributary_cdk.config.DeployConfig`); ``CDK_DEFAULT_ACCOUNT`` and
``CDK_DEFAULT_REGION`` (set by the CDK CLI from your credentials) pin the environment when present; the
region falls back to the config's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk

from shared.manifest import ServiceManifest, load_manifests
from tributary.paths import repo_root as find_repo_root
from tributary_cdk import nag
from tributary_cdk.config import DeployConfig
from tributary_cdk.naming import stack_name
from tributary_cdk.stacks.core import CoreStack
from tributary_cdk.stacks.service import ServiceStack

CONTEXT_KEY = "tributary"
# CDK feature flags the stacks rely on: merge policy statements (one statement per resource and effect);
# S3 server access logs delivered under a bucket policy, not the legacy log-delivery ACL.
FEATURE_FLAGS = {
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def new_app(**kwargs: object) -> cdk.App:
    """A CDK app with Tributary's feature flags (``kwargs`` as for :class:`aws_cdk.App`, e.g. ``outdir``)."""
    context = {**FEATURE_FLAGS, **dict(kwargs.pop("context", None) or {})}  # type: ignore[call-overload]
    return cdk.App(context=context, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class Stacks:
    """What :func:`build_app` added to the app."""

    core: CoreStack
    services: dict[str, ServiceStack]


def default_repo_root() -> Path:
    """The workspace root: the Docker build context and the home of ``contracts/schemas``."""
    return find_repo_root(Path(__file__).resolve().parent)


def environment(config: DeployConfig) -> cdk.Environment:
    """The account and region the CDK CLI resolved; the config's region where it resolved none."""
    return cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT") or None,
        region=os.environ.get("CDK_DEFAULT_REGION") or config.region,
    )


def build_app(
    app: cdk.App,
    *,
    config: DeployConfig | None = None,
    manifests: Sequence[ServiceManifest] | None = None,
    repo_root: Path | None = None,
    env: cdk.Environment | None = None,
    check: bool = True,
) -> Stacks:
    """Add the core stack and one stack per manifest to ``app``; with ``check``, cdk-nag's AwsSolutions.

    Args:
        app: the CDK app.
        config: the deployment (default: from the app's ``tributary`` context).
        manifests: the services (default: every installed one).
        repo_root: the workspace root (Dockerfiles, contract schemas).
        env: account and region (default: :func:`environment`).
        check: run cdk-nag over every stack at synth.
    """
    config = config or DeployConfig.from_context(app.node.try_get_context(CONTEXT_KEY))
    root = repo_root or default_repo_root()
    env = env or environment(config)
    bus = config.bus_name
    chosen = list(load_manifests() if manifests is None else manifests)
    core = CoreStack(
        app,
        stack_name(bus, "core"),
        config=config,
        schemas_dir=root / "contracts" / "schemas",
        services=chosen,
        env=env,
    )
    services = {
        m.name: ServiceStack(app, stack_name(bus, m.name), manifest=m, config=config, repo_root=root, env=env)
        for m in chosen
    }
    for stack in [core, *services.values()]:
        cdk.Tags.of(stack).add("project", "tributary")
        cdk.Tags.of(stack).add("tributary:bus", bus)
    if check:
        nag.check(app)
    return Stacks(core=core, services=services)


def main() -> None:
    """Synthesize into ``$CDK_OUTDIR`` (set by the CDK CLI), else ``./cdk.out``."""
    app = new_app(outdir=os.environ.get("CDK_OUTDIR") or "cdk.out")
    build_app(app)
    app.synth()


if __name__ == "__main__":
    main()
