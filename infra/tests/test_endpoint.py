"""An emulator the stack does not run: how ``LOCALSTACK_ENDPOINT`` is read, chosen, waited for, and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tributary.aws import credentials_available
from tributary.emulator import EmulatorError
from tributary.emulators import default_emulator_name, make_emulator
from tributary.endpoint import EndpointEmulator, endpoint_from_env, resolve_endpoint
from tributary.stack import Stack


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("http://127.0.0.1:4566/", "http://127.0.0.1:4566"),
        ("127.0.0.1:4599", "http://127.0.0.1:4599"),
        ("localstack", "http://localstack:4566"),
        (" 127.0.0.1:4566 ", "http://127.0.0.1:4566"),
    ],
)
def test_an_endpoint_is_a_url_or_host_port(value: str, url: str) -> None:
    """URLs are kept; ``host[:port]`` is read as LocalStack's own clients read it (port 4566 by default)."""
    assert resolve_endpoint(value) == url


def test_use_ssl_makes_a_host_port_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USE_SSL", "1")
    assert resolve_endpoint("127.0.0.1:4566") == "https://127.0.0.1:4566"


@pytest.mark.parametrize("value", ["", "  ", "127.0.0.1:port"])
def test_a_bad_endpoint_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="LOCALSTACK_ENDPOINT"):
        resolve_endpoint(value)


def test_localstack_endpoint_picks_the_endpoint_unless_an_emulator_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TRIBUTARY_EMULATOR", raising=False)
    monkeypatch.delenv("LOCALSTACK_ENDPOINT", raising=False)
    assert default_emulator_name() == "localstack"
    assert endpoint_from_env() is None
    with pytest.raises(ValueError, match="needs LOCALSTACK_ENDPOINT"):
        make_emulator("endpoint", tmp_path)

    monkeypatch.setenv("LOCALSTACK_ENDPOINT", "127.0.0.1:4510")
    assert default_emulator_name() == "endpoint"
    emulator = make_emulator("endpoint", tmp_path)
    assert emulator.endpoint == "http://127.0.0.1:4510"
    assert (emulator.pid, emulator.owned) == (None, False)

    monkeypatch.setenv("TRIBUTARY_EMULATOR", "ministack")
    assert default_emulator_name() == "ministack"


def test_nothing_listening_is_a_clear_error() -> None:
    """The error names the endpoint instead of a connection traceback."""
    with pytest.raises(
        EmulatorError, match=r"no endpoint answering at http://127\.0\.0\.1:9 .*is it running"
    ):
        EndpointEmulator("127.0.0.1:9", timeout_s=0.3).start()


def test_an_unknown_kind_of_emulator_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown target 'moto'"):
        EndpointEmulator("127.0.0.1:4566", name="moto")


def test_a_stack_on_an_endpoint_gets_a_bus_of_its_own(tmp_path: Path) -> None:
    """Other stacks may share the endpoint: never the default bus, and a new name per stack."""
    first = Stack(data_dir=tmp_path / "a", manifests=[], emulator=EndpointEmulator("127.0.0.1:9"))
    second = Stack(data_dir=tmp_path / "b", manifests=[], emulator=EndpointEmulator("127.0.0.1:9"))
    assert first.bus_name.startswith("tributary-") and second.bus_name.startswith("tributary-")
    assert first.bus_name != second.bus_name
    owned = Stack(data_dir=tmp_path / "c", manifests=[], emulator=make_emulator("ministack", tmp_path / "c"))
    assert owned.bus_name == "tributary"


def test_credentials_are_found_without_calling_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the environment and the shared credentials file count: no metadata service is asked."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    assert not credentials_available()
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = x\n", encoding="utf-8")
    assert credentials_available()
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_PROFILE", "deploy")
    assert credentials_available()
