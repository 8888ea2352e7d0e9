"""The service images: built from ``services/Dockerfile`` with ``SERVICE=<svc>`` (repository root as
context) or pulled.

The Dockerfile has two targets: ``runtime`` (the default, last stage: python:3.13-slim, non-root,
``tributary-service``) for containers, and ``lambda`` (the AWS Lambda Python base image with the same
locked dependencies) whose command is the Lambda handler (``shared.lambda_entry.handler``). Images pulled
from a registry follow the same split: ``<prefix><svc>:<tag>`` and ``<prefix><svc>:<tag>-lambda``.
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


DOCKERFILE = "services/Dockerfile"  # relative to the build context (the repository root)


def dockerfile(repo_root: Path, service: str) -> str:
    """The services' Dockerfile relative to the build context, once ``service`` is known to be there.

    Raises:
        FileNotFoundError: no Dockerfile, or no package folder for ``service`` to build.
    """
    if not (repo_root / DOCKERFILE).is_file():
        raise FileNotFoundError(f"no service Dockerfile at {repo_root / DOCKERFILE}")
    if not (repo_root / "services" / service / "pyproject.toml").is_file():
        raise FileNotFoundError(f"service {service!r} has no package under {repo_root / 'services'}")
    return DOCKERFILE


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
        str(repo_root),
        file=dockerfile(repo_root, service),
        build_args={"SERVICE": service},
        target="runtime",
        platform=PLATFORM,
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
        str(repo_root),
        file=dockerfile(repo_root, service),
        build_args={"SERVICE": service},
        target="lambda",
        cmd=[handler],
        platform=PLATFORM,
    )
