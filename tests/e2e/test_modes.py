"""How the e2e suite picks where it runs: host emulators, an external endpoint, a given stack, or AWS.

Pure selection logic (no stack starts here): the environment decides, and AWS without a deployed stack or
without credentials gives a reason instead of a call to AWS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import e2e_emulators, external_stack


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "TRIBUTARY_STACK_FILE",
        "LOCALSTACK_ENDPOINT",
        "TRIBUTARY_E2E_EMULATORS",
        "AWS_ACCESS_KEY_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def _stack_file(tmp_path: Path, aws_endpoint: str | None) -> Path:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"aws_endpoint": aws_endpoint, "region": "eu-west-1"}), encoding="utf-8")
    return path


def test_host_emulators_by_default_or_as_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert e2e_emulators() == ["localstack", "ministack"]
    monkeypatch.setenv("TRIBUTARY_E2E_EMULATORS", "ministack")
    assert e2e_emulators() == ["ministack"]
    monkeypatch.setenv("TRIBUTARY_E2E_EMULATORS", "ministack,moto")
    with pytest.raises(pytest.UsageError, match="moto"):
        e2e_emulators()


def test_localstack_endpoint_means_the_endpoint_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIBUTARY_E2E_EMULATORS", "localstack,ministack")
    monkeypatch.setenv("LOCALSTACK_ENDPOINT", "127.0.0.1:4566")
    assert e2e_emulators() == ["endpoint"]


def test_aws_without_a_deployed_stack_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIBUTARY_E2E_EMULATORS", "aws")
    assert e2e_emulators() == ["external"]
    description, why = external_stack()
    assert description is None
    assert "no deployed stack given (TRIBUTARY_STACK_FILE" in why


def test_a_stack_on_aws_needs_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIBUTARY_STACK_FILE", str(_stack_file(tmp_path, None)))
    assert e2e_emulators() == ["external"]
    description, why = external_stack()
    assert description is None and "no AWS credentials are configured" in why
    monkeypatch.setenv("AWS_PROFILE", "deploy")
    description, why = external_stack()
    assert description == {"aws_endpoint": None, "region": "eu-west-1"}
    assert why.endswith("(AWS)")


def test_a_stack_on_an_emulator_needs_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIBUTARY_STACK_FILE", str(_stack_file(tmp_path, "http://127.0.0.1:4566")))
    description, why = external_stack()
    assert description is not None and description["aws_endpoint"] == "http://127.0.0.1:4566"
    assert "(http://127.0.0.1:4566)" in why
