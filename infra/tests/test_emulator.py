"""LocalStack on the host: starts on loopback, fails loudly, stops and cleans its S3 folder."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tributary.aws import emulator_client
from tributary.emulator import LOCALSTACK_S3_STORAGE, EmulatorError, LocalStackEmulator, make_emulator
from tributary.procnet import listeners


def test_localstack_lifecycle(tmp_path: Path) -> None:
    """It answers health on 127.0.0.1 only, and stop() ends it and removes its bucket folders."""
    emulator = LocalStackEmulator(tmp_path)
    emulator.start()
    try:
        pid = emulator.pid
        assert pid is not None
        assert emulator.endpoint.startswith("http://127.0.0.1:")
        health = httpx.get(f"{emulator.endpoint}/_localstack/health", trust_env=False).json()
        assert health["version"] == "4.14.0"
        assert health["services"]["sqs"] != "disabled"
        found = listeners({pid})
        assert found
        assert all(listener.is_loopback for listener in found), found
        s3 = emulator_client("s3", emulator.endpoint)
        s3.create_bucket(Bucket="tributary-emulator-test")
        s3.put_object(Bucket="tributary-emulator-test", Key="a.txt", Body=b"x")
        assert (LOCALSTACK_S3_STORAGE / "tributary-emulator-test").exists()
        assert (tmp_path / "localstack").is_dir()
        assert (tmp_path / "logs" / "localstack.log").is_file()
    finally:
        emulator.stop()
    assert emulator.pid is None
    assert not Path(f"/proc/{pid}").exists()
    assert not (LOCALSTACK_S3_STORAGE / "tributary-emulator-test").exists()
    emulator.stop()  # idempotent


def test_start_failure_carries_the_log_tail(tmp_path: Path) -> None:
    """An interpreter that exits at once gives an EmulatorError with the log's last lines."""
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\necho 'boom: no runtime here'\nexit 3\n")
    script.chmod(0o755)
    emulator = LocalStackEmulator(tmp_path, python=script)
    with pytest.raises(EmulatorError, match="boom: no runtime here"):
        emulator.start()
    assert emulator.pid is None


def test_missing_venv_says_how_to_fix(tmp_path: Path) -> None:
    """Without LocalStack's venv the error points at `make install`."""
    with pytest.raises(EmulatorError, match="make install"):
        LocalStackEmulator(tmp_path, python=tmp_path / "nope" / "python").start()


def test_environment_keeps_traffic_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process env binds loopback, disables phoning home, and drops the host's AWS settings."""
    monkeypatch.setenv("AWS_PROFILE", "production")
    env = LocalStackEmulator(tmp_path).environment(4567)
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4567"
    assert env["GATEWAY_SERVER"] == "hypercorn"
    assert env["SKIP_SSL_CERT_DOWNLOAD"] == env["DISABLE_EVENTS"] == "1"
    assert env["FILESYSTEM_ROOT"] == str(tmp_path / "localstack")
    assert "kinesis" not in env["SERVICES"]
    assert "AWS_PROFILE" not in env
    assert env["PATH"] == os.environ["PATH"]


def test_make_emulator_knows_localstack(tmp_path: Path) -> None:
    """Emulators are chosen by name; an unknown name is an error."""
    assert isinstance(make_emulator("localstack", tmp_path), LocalStackEmulator)
    with pytest.raises(ValueError, match="unknown emulator"):
        make_emulator("nope", tmp_path)
