"""MiniStack on the host, from its own virtualenv (``.ministack-venv``; it pins botocore exactly).

Much faster than LocalStack here and serves DynamoDB offline; it lacks ``StartMessageMoveTask`` (callers
detect that from the endpoint's ``InvalidAction`` and move message by message). Every file it writes (S3
objects, which it keeps on disk with ``S3_PERSIST``, temporary files, state) goes under
``<data_dir>/ministack``; ``BIND_HOST`` keeps it on 127.0.0.1 (without it, it listens on 0.0.0.0). The stack
provisions afresh at every start, so its other state is not persisted.
"""

from __future__ import annotations

from pathlib import Path

from tributary.emulator import HostEmulator, host_environment
from tributary.paths import ministack_executable
from tributary.processes import LOOPBACK


class MiniStackEmulator(HostEmulator):
    """MiniStack as a host process (``executable``: :func:`tributary.paths.ministack_executable`)."""

    name = "ministack"
    health_path = "/_ministack/health"

    def __init__(
        self,
        data_dir: Path,
        *,
        executable: Path | None = None,
        port: int | None = None,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(data_dir, port=port, start_timeout_s=start_timeout_s, stop_timeout_s=stop_timeout_s)
        self.executable = executable or ministack_executable()

    def command(self) -> list[str]:
        return [str(self.executable)]

    def environment(self, port: int) -> dict[str, str]:
        root = self.data_dir / "ministack"
        folders = {name: root / name for name in ("state", "s3", "tmp")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        return host_environment() | {
            "BIND_HOST": LOOPBACK,
            "GATEWAY_PORT": str(port),
            "STATE_DIR": str(folders["state"]),
            "S3_DATA_DIR": str(folders["s3"]),
            "S3_PERSIST": "1",  # objects on disk, not in the emulator's memory: archives grow large
            "TMPDIR": str(folders["tmp"]),
            "IOT_MTLS_ENABLED": "0",
            "SFTP_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        }
