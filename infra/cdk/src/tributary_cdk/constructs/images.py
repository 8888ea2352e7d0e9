"""The service images: built from ``services/<svc>/Dockerfile`` (repository root as context) or pulled.

Each Dockerfile has two targets: ``runtime`` (the default, last stage: python:3.13-slim, non-root,
``python -m <module>``) for containers, and ``lambda`` (the AWS Lambda Python base image with the same
locked dependencies) whose command is the Lambda handler. Images pulled from a registry follow the same
split: ``<prefix><svc>:<tag>`` and ``<prefix><svc>:<tag>-lambda``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from tributary_cdk.config import ImageSource

PLATFORM = ecr_assets.Platform.LINUX_AMD64


def dockerfile(repo_root: Path, service: str) -> str:
    """``services/<svc>/Dockerfile`` relative to the build context.

    Raises:
        FileNotFoundError: the service has no Dockerfile.
    """
    relative = f"services/{service}/Dockerfile"
    if not (repo_root / relative).is_file():
        raise FileNotFoundError(f"service {service!r} has no Dockerfile at {repo_root / relative}")
    return relative


def container_image(
    scope: Construct, *, service: str, source: ImageSource, repo_root: Path
) -> ecs.ContainerImage:
    """The image an ECS task runs for ``service``."""
    if source.kind == "registry":
        repo = ecr.Repository.from_repository_name(
            scope, "Repository", f"{source.repository_prefix}{service}"
        )
        return ecs.ContainerImage.from_ecr_repository(repo, source.tag)
    return ecs.ContainerImage.from_asset(
        str(repo_root), file=dockerfile(repo_root, service), target="runtime", platform=PLATFORM
    )


def lambda_code(
    scope: Construct, *, service: str, source: ImageSource, repo_root: Path, handler: str
) -> lambda_.DockerImageCode:
    """The image a Lambda function runs for ``service``, its command set to ``handler``."""
    if source.kind == "registry":
        repo = ecr.Repository.from_repository_name(
            scope, "Repository", f"{source.repository_prefix}{service}"
        )
        return lambda_.DockerImageCode.from_ecr(repo, tag_or_digest=f"{source.tag}-lambda", cmd=[handler])
    return lambda_.DockerImageCode.from_image_asset(
        str(repo_root), file=dockerfile(repo_root, service), target="lambda", cmd=[handler], platform=PLATFORM
    )
