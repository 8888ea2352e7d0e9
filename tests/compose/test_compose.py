"""docker-compose.yml and the Dockerfiles, checked statically (no Docker engine here or in CI).

The file parses; every build context and Dockerfile exists; every service manifest has a container and
vice versa; each container's environment is what the service's settings read and what the local stack
gives it (tributary/stack.py), with the queue and topic names local provisioning creates; the one service
Dockerfile, built with each service as its ``SERVICE`` argument, installs only that service's locked
dependencies and runs it through the services' entry point as a non-root user.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.manifest import ServiceManifest, load_manifests
from shared.testkit.settings_env import settings_env
from tributary.endpoint import EndpointEmulator
from tributary.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICE_DOCKERFILE = ROOT / "services" / "Dockerfile"
INFRASTRUCTURE = {"localstack", "provision"}
LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
ENDPOINT = "http://localstack:4566"
QUEUE_URL_PREFIX = f"{ENDPOINT}/queue/us-east-1/000000000000/"
MANIFESTS = {m.name: m for m in load_manifests()}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def provisioning(compose: dict[str, Any]) -> dict[str, str]:
    """The bus and bucket the provisioning container creates (from its command line)."""
    command = compose["services"]["provision"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert command[0] == "provision"
    return {"endpoint": options["--endpoint"], "bus": options["--bus-name"], "bucket": options["--bucket"]}


def _env(compose: dict[str, Any], service: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"][service].get("environment", {}).items()}


def test_compose_parses_and_pins_localstack(compose: dict[str, Any]) -> None:
    """LocalStack 4.14.0 (no auth token), healthy before provisioning, provisioning before services."""
    services = compose["services"]
    assert services["localstack"]["image"] == LOCALSTACK_IMAGE
    assert "healthcheck" in services["localstack"]
    assert services["provision"]["depends_on"] == {"localstack": {"condition": "service_healthy"}}
    for name in MANIFESTS:
        assert services[name]["depends_on"] == {"provision": {"condition": "service_completed_successfully"}}


def test_every_manifest_has_a_container_and_vice_versa(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) - INFRASTRUCTURE == set(MANIFESTS)


def test_build_contexts_and_dockerfiles_exist(compose: dict[str, Any]) -> None:
    """Each built image's context is a folder and its Dockerfile is a file (relative to the context)."""
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        context = (COMPOSE.parent / service["build"]["context"]).resolve()
        assert context.is_dir(), name
        assert (context / service["build"]["dockerfile"]).is_file(), name
        if name in MANIFESTS:
            assert service["build"]["dockerfile"] == "services/Dockerfile"
            assert service["build"]["args"] == {"SERVICE": name}


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_environment_is_what_the_settings_read(
    compose: dict[str, Any], provisioning: dict[str, str], name: str
) -> None:
    """Every TRIBUTARY_* key is a settings field, the required ones are set, names match provisioning."""
    manifest: ServiceManifest = MANIFESTS[name]
    env = _env(compose, name)
    expected = settings_env(manifest)
    assert expected.unknown(set(env)) == set()
    assert expected.missing(set(env)) == set()
    assert env["TRIBUTARY_SERVICE"] == name
    bus = provisioning["bus"]
    if manifest.is_worker:
        assert env["TRIBUTARY_QUEUE_URL"] == f"{QUEUE_URL_PREFIX}{bus}-{name}"
        assert env["TRIBUTARY_DLQ_URL"] == f"{QUEUE_URL_PREFIX}{bus}-{name}-dlq"
        assert env["TRIBUTARY_VISIBILITY_TIMEOUT_S"] == str(manifest.queue.visibility_timeout_s)
    for topic in manifest.topics:
        arn = env[f"TRIBUTARY_TOPIC_{topic.upper()}_ARN"]
        assert arn == f"arn:aws:sns:us-east-1:000000000000:{bus}-{name}-{topic}"
    if "TRIBUTARY_BUS_NAME" in env:
        assert env["TRIBUTARY_BUS_NAME"] == bus
    if "TRIBUTARY_BUCKET" in env:
        assert env["TRIBUTARY_BUCKET"] == provisioning["bucket"]


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_aws_environment_matches_the_local_stack(
    compose: dict[str, Any], provisioning: dict[str, str], name: str, tmp_path: Path
) -> None:
    """AWS_* variables: the keys and values the host stack passes, pointed at the LocalStack container."""
    stack = Stack(
        data_dir=tmp_path,
        manifests=[],
        emulator=EndpointEmulator(provisioning["endpoint"], name="localstack"),
        bucket=provisioning["bucket"],
        bus_name=provisioning["bus"],
    )
    local = {k: v for k, v in stack.aws_env().items() if k.startswith("AWS_")}
    env = _env(compose, name)
    assert {k: v for k, v in env.items() if k.startswith("AWS_")} == local


@pytest.mark.parametrize("name", sorted(n for n, m in MANIFESTS.items() if m.is_worker))
def test_local_stores_live_on_named_volumes(compose: dict[str, Any], name: str) -> None:
    """A worker's data folder (ledger, embedded store) is a named volume, so it survives a restart."""
    env = _env(compose, name)
    mounts = dict(v.split(":", 1) for v in compose["services"][name]["volumes"])
    volume = next(src for src, dst in mounts.items() if dst == env["TRIBUTARY_DATA_DIR"])
    assert volume in compose["volumes"]


def _stages(dockerfile: Path) -> tuple[dict[str, str], list[tuple[str, list[str]]]]:
    """``ARG`` defaults and the stages as ``(base image, instructions)``, continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    args: dict[str, str] = {}
    stages: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("ARG ") and not stages and "=" in line:
            key, value = line[4:].split("=", 1)
            args[key.strip()] = value.strip()
        elif line.startswith("FROM "):
            image = line.split()[1]
            stages.append((re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image), []))
        elif stages:
            stages[-1][1].append(line)
    return args, stages


def test_the_service_dockerfile_is_slim_non_root_and_locked_to_one_service() -> None:
    """Final stage python:3.13-slim as a non-root user running tributary-service (the service from the build
    argument); only the ``SERVICE`` package's locked dependencies; a Lambda stage on shared.lambda_entry."""
    _, stages = _stages(SERVICE_DOCKERFILE)
    base, instructions = stages[-1]
    assert base == "python:3.13-slim"
    users = [i.split()[1] for i in instructions if i.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert instructions[-1] == 'CMD ["tributary-service"]'
    assert "TRIBUTARY_SERVICE=${SERVICE}" in " ".join(instructions)
    build = " ".join(stages[0][1])
    assert 'package="tributary-$(echo "${SERVICE}" | tr _ -)"' in build
    assert build.count('--package "${package}"') == 2
    assert "--frozen" in build and "--no-dev" in build and "--require-hashes" in build
    [(_, lambda_stage)] = [s for s in stages if s[0].startswith("public.ecr.aws/lambda/python:3.13")]
    assert lambda_stage[-1] == 'CMD ["shared.lambda_entry.handler"]'


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_each_service_package_is_what_the_build_argument_names(name: str) -> None:
    """``SERVICE=<name>`` installs ``tributary-<name with dashes>``: the service's own pyproject."""
    package = "tributary-" + name.replace("_", "-")
    pyproject = (ROOT / "services" / name / "pyproject.toml").read_text(encoding="utf-8")
    assert f'name = "{package}"' in pyproject
    assert f'{name} = "{name}.manifest:MANIFEST"' in pyproject


def test_dockerignore_keeps_what_the_images_copy() -> None:
    """The build context lets through every path a Dockerfile COPYs, and keeps tests and caches out."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    kept = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for dockerfile in [SERVICE_DOCKERFILE, ROOT / "infra" / "Dockerfile"]:
        for line in dockerfile.read_text(encoding="utf-8").splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                copied.update(line.split()[1:-1])
    assert copied <= kept
    assert "**/tests/" in lines
