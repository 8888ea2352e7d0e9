"""The Stack: provisions, runs services, describes itself in stack.json, binds loopback, cleans up."""

from __future__ import annotations

import json
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.credential_stores import FileCredentialStore
from shared.manifest import ServiceManifest
from tributary.localstack import LOCALSTACK_S3_STORAGE, LocalStackEmulator
from tributary.procnet import listeners
from tributary.stack import Stack, StackError, read_stack_file


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def make_stack(
    tmp_path: Path,
    localstack: LocalStackEmulator,
    tiny_manifest: Callable[..., ServiceManifest],
    tiny_env: dict[str, str],
) -> Callable[..., Stack]:
    """A stack of a tiny `ingest` and a tiny worker on the module's LocalStack (not started)."""

    def build(**kwargs: object) -> Stack:
        manifests = [tiny_manifest("ingest"), tiny_manifest("worker", worker=True), tiny_manifest("reader")]
        options: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "manifests": manifests,
            "emulator": localstack,
            "bus_name": f"t{secrets.token_hex(4)}",
            "service_env": {"ingest": tiny_env, "reader": tiny_env, "worker": {**tiny_env, "TINY_KNOB": "1"}},
            "stop_timeout_s": 5.0,
            "launcher": ("-m", "tiny_service"),
        }
        options.update(kwargs)
        return Stack(**options)  # type: ignore[arg-type]

    return build


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    with make_stack() as running:
        yield running


def test_stack_json_describes_the_running_stack(stack: Stack, localstack: LocalStackEmulator) -> None:
    """stack.json names the endpoint, ingest, bus, bucket, queues and every service's pids and log."""
    info = read_stack_file(stack.data_dir)
    assert info["emulator"] == "localstack"
    assert info["aws_endpoint"] == localstack.endpoint
    assert info["region"] == "us-east-1"
    assert info["ingest_url"] == info["services"]["ingest"]["url"]
    assert info["bus_name"] == stack.bus_name
    assert info["bucket"].startswith("tributary-archive-")
    assert set(info["queues"]) == {"worker"}
    assert info["queues"]["worker"]["url"].endswith(f"{stack.bus_name}-worker")
    assert info["queues"]["worker"]["dlq_url"].endswith(f"{stack.bus_name}-worker-dlq")
    assert set(info["services"]) == {"ingest", "worker", "reader"}
    assert info["reader_url"] == info["services"]["reader"]["url"]
    assert info["services"]["worker"]["log"] == str(stack.data_dir / "logs" / "worker.log")
    assert info["data_dir"] == str(stack.data_dir)
    assert info["aws_proxy"] is None  # services call the emulator directly unless aws_proxy=True
    assert info["producer"]["id"] == "local"
    assert stat.S_IMODE(stack.stack_file.stat().st_mode) == 0o600  # it holds the producer's key
    found = FileCredentialStore(stack.credential_path).load().find(info["producer"]["key"])
    assert found is not None and found[0] == "local"


def test_services_get_stack_and_queue_environment(stack: Stack, localstack: LocalStackEmulator) -> None:
    """Workers learn their queue and DLQ; everyone learns the endpoint, bus, bucket and dummy keys."""
    env = json.loads((stack.data_dir / "services" / "worker" / "env.0.json").read_text())
    queue = stack.topology.queues["worker"]
    assert env["AWS_ENDPOINT_URL"] == localstack.endpoint
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert env["TRIBUTARY_QUEUE_URL"] == queue.url
    assert env["TRIBUTARY_DLQ_URL"] == queue.dlq_url
    assert env["TRIBUTARY_BUS_NAME"] == stack.bus_name
    assert env["TRIBUTARY_BUCKET"] == stack.bucket
    assert env["TINY_KNOB"] == "1"
    ingest_env = json.loads((stack.data_dir / "services" / "ingest" / "env.0.json").read_text())
    assert "TRIBUTARY_QUEUE_URL" not in ingest_env


def test_stack_binds_only_loopback(stack: Stack) -> None:
    """Every socket the emulator and the services listen on is on 127.0.0.1."""
    info = read_stack_file(stack.data_dir)
    pids = {info["emulator_pid"], *(pid for svc in info["services"].values() for pid in svc["pids"])}
    found = listeners(pids)
    assert {listener.pid for listener in found} == pids
    assert all(listener.host == "127.0.0.1" for listener in found), found


def test_kill_and_restart_update_stack_json(stack: Stack) -> None:
    """A killed service disappears from stack.json's pids and comes back after restart."""
    (old_pid,) = read_stack_file(stack.data_dir)["services"]["worker"]["pids"]
    assert stack.kill("worker") == [old_pid]
    assert read_stack_file(stack.data_dir)["services"]["worker"]["pids"] == []
    stack.restart("worker")
    (new_pid,) = read_stack_file(stack.data_dir)["services"]["worker"]["pids"]
    assert new_pid != old_pid


def test_exit_stops_services_and_removes_stack_json(make_stack: Callable[..., Stack]) -> None:
    """Leaving the block stops every service process and deletes stack.json; a shared emulator stays."""
    with make_stack() as stack:
        pids = [p.pid for procs in stack.supervisor.processes.values() for p in procs]
        stack_file = stack.stack_file
    assert all(_gone(pid) for pid in pids)
    assert not stack_file.exists()
    assert stack.emulator.pid is not None


def test_exception_inside_the_block_still_cleans_up(make_stack: Callable[..., Stack]) -> None:
    """An error in the with-block propagates after the services are stopped."""
    pids: list[int] = []

    def fail_inside() -> None:
        with make_stack() as stack:
            pids.extend(p.pid for procs in stack.supervisor.processes.values() for p in procs)
            raise RuntimeError("in the block")

    with pytest.raises(RuntimeError, match="in the block"):
        fail_inside()
    assert pids
    assert all(_gone(pid) for pid in pids)


def test_one_stack_per_data_dir(stack: Stack, make_stack: Callable[..., Stack]) -> None:
    """A second stack on a data folder in use is refused before it starts anything."""
    with pytest.raises(StackError, match="another stack"), make_stack():
        pass
    assert read_stack_file(stack.data_dir)["services"]


def test_own_emulator_is_stopped_and_its_bucket_folder_removed(
    tmp_path: Path, tiny_manifest: Callable[..., ServiceManifest], tiny_env: dict[str, str]
) -> None:
    """A stack that started its emulator stops it, and removes LocalStack's folder for its bucket."""
    with Stack(
        data_dir=tmp_path,
        manifests=[tiny_manifest("ingest")],
        service_env={"ingest": tiny_env},
        launcher=("-m", "tiny_service"),
    ) as stack:
        stack.client("s3").put_object(Bucket=stack.bucket, Key="k", Body=b"v")
        emulator_pid = stack.emulator.pid
        assert emulator_pid is not None
        assert (LOCALSTACK_S3_STORAGE / stack.bucket).is_dir()
    assert _gone(emulator_pid)
    assert not (LOCALSTACK_S3_STORAGE / stack.bucket).exists()
