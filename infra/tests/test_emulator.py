"""The emulators on the host: start on loopback, fail loudly, stop, and leave nothing outside their folder."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest

from tributary.aws import emulator_client
from tributary.emulator import EmulatorError
from tributary.emulators import make_emulator
from tributary.localstack import LOCALSTACK_S3_STORAGE, LocalStackEmulator
from tributary.ministack import MiniStackEmulator
from tributary.procnet import listeners


def test_localstack_lifecycle(tmp_path: Path) -> None:
    """It answers health on 127.0.0.1 only, and stop() ends it and removes its bucket folders."""
    bucket = f"tributary-emulator-test-{uuid.uuid4().hex[:8]}"  # the storage folder is machine-wide
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
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
        assert (LOCALSTACK_S3_STORAGE / bucket).exists()
        assert (tmp_path / "localstack").is_dir()
        assert (tmp_path / "logs" / "localstack.log").is_file()
    finally:
        emulator.stop()
    assert emulator.pid is None
    assert not Path(f"/proc/{pid}").exists()
    assert not (LOCALSTACK_S3_STORAGE / bucket).exists()
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


def test_ministack_lifecycle(tmp_path: Path) -> None:
    """MiniStack answers on 127.0.0.1 only, keeps S3 objects under the data folder, and stops."""
    emulator = MiniStackEmulator(tmp_path)
    emulator.start()
    try:
        pid = emulator.pid
        assert pid is not None
        assert httpx.get(f"{emulator.endpoint}/_ministack/health", trust_env=False).status_code == 200
        found = listeners({pid})
        assert found
        assert all(listener.is_loopback for listener in found), found
        s3 = emulator_client("s3", emulator.endpoint)
        s3.create_bucket(Bucket="tributary-emulator-test")
        s3.put_object(Bucket="tributary-emulator-test", Key="a.txt", Body=b"x")
        stored = [p for p in (tmp_path / "ministack" / "s3").rglob("*") if p.is_file()]
        assert stored, "MiniStack's S3 objects are not under the data folder"
        assert (tmp_path / "logs" / "ministack.log").is_file()
    finally:
        emulator.stop()
    assert emulator.pid is None
    assert not Path(f"/proc/{pid}").exists()


def test_ministack_environment_binds_loopback_and_keeps_files_inside(tmp_path: Path) -> None:
    """BIND_HOST, state, S3 and temp folders all point at loopback and the data folder."""
    env = MiniStackEmulator(tmp_path).environment(4567)
    assert env["BIND_HOST"] == "127.0.0.1"
    assert env["GATEWAY_PORT"] == "4567"
    for key in ("STATE_DIR", "S3_DATA_DIR", "TMPDIR"):
        assert Path(env[key]).is_relative_to(tmp_path), key


def test_make_emulator_knows_both(tmp_path: Path) -> None:
    """Emulators are chosen by name; an unknown name is an error."""
    assert isinstance(make_emulator("localstack", tmp_path), LocalStackEmulator)
    assert isinstance(make_emulator("ministack", tmp_path), MiniStackEmulator)
    with pytest.raises(ValueError, match="unknown emulator"):
        make_emulator("nope", tmp_path)
