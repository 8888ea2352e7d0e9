"""LocalStack community 4.14.0 on the host, from its own virtualenv (``.localstack-venv``, Python 3.13).

Run as ``python -m localstack.runtime.main`` with the hypercorn gateway (it binds only the address given;
the default twisted one binds 0.0.0.0). Its traps handled here: SIGTERM can hang for over 30 s after load
(the base class escalates to SIGKILL), and S3 objects go to a hard-coded ``/tmp/localstack-s3-storage/
<bucket>`` whatever ``FILESYSTEM_ROOT`` says, so :meth:`LocalStackEmulator.cleanup` removes the folder of
every bucket it served (give each stack a unique bucket).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from tributary.aws import emulator_client
from tributary.emulator import HostEmulator, host_environment
from tributary.paths import localstack_python
from tributary.processes import LOOPBACK

log = structlog.get_logger(__name__)

LOCALSTACK_SERVICES = "sqs,events,s3,sns,sts,iam,cloudwatch,logs,cloudformation"
# LocalStack's S3 provider hard-codes this folder (DEFAULT_S3_TMP_DIR); it ignores TMPDIR.
LOCALSTACK_S3_STORAGE = Path("/tmp/localstack-s3-storage")  # noqa: S108 - LocalStack's path, not ours


class LocalStackEmulator(HostEmulator):
    """LocalStack 4.14.0 as a host process (``python``: :func:`tributary.paths.localstack_python`)."""

    name = "localstack"
    health_path = "/_localstack/health"

    def __init__(
        self,
        data_dir: Path,
        *,
        python: Path | None = None,
        port: int | None = None,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(data_dir, port=port, start_timeout_s=start_timeout_s, stop_timeout_s=stop_timeout_s)
        self.python = python or localstack_python()

    def command(self) -> list[str]:
        return [str(self.python), "-m", "localstack.runtime.main"]

    def environment(self, port: int) -> dict[str, str]:
        tmp = self.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return host_environment() | {
            "GATEWAY_SERVER": "hypercorn",
            "GATEWAY_LISTEN": f"{LOOPBACK}:{port}",
            "LOCALSTACK_HOST": f"{LOOPBACK}:{port}",
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(self.data_dir / "localstack"),
            "SQS_ENDPOINT_STRATEGY": "path",
            "DNS_ADDRESS": "0",
            "SERVICES": LOCALSTACK_SERVICES,
            # Without these two it calls api.localstack.cloud; all our traffic stays on loopback.
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            # LocalStack reports SQS metrics to its own CloudWatch per message sent, received and deleted
            # (a PutMetricData through its gateway each, on a thread pool that runs on for seconds after a
            # burst); nothing here reads them (``tributary health`` peeks where CloudWatch has no age).
            "SQS_DISABLE_CLOUDWATCH_METRICS": "1",
            "TMPDIR": str(tmp),  # Python's own temp files (LocalStack logs a harmless deprecation notice)
            "PYTHONUNBUFFERED": "1",
        }

    def served_buckets(self) -> set[str]:
        s3 = emulator_client("s3", self.endpoint, timeout_s=5.0, max_attempts=1)
        try:
            listed = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        except (BotoCoreError, ClientError) as exc:
            log.warning("emulator_list_buckets_failed", emulator=self.name, error=str(exc))
            listed = set()
        return super().served_buckets() | listed

    def cleanup(self, buckets: set[str]) -> None:
        for bucket in sorted(buckets):
            shutil.rmtree(LOCALSTACK_S3_STORAGE / bucket, ignore_errors=True)
