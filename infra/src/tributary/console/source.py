"""The stack a console watches: its description, read afresh on each look, and the clients to reach it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from shared.manifest import ServiceManifest, load_manifests
from tributary.operators.target import Target, description_target
from tributary.paths import default_data_dir
from tributary.stack import StackError

Description = dict[str, Any]


def stack_file_reader(path: Path) -> Callable[[], Description]:
    """Reads ``path`` (a ``stack.json``) on every call: a stack that restarts a service rewrites it.

    The reader raises :class:`~tributary.stack.StackError` when the file is gone or is not a description.
    """

    def read() -> Description:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise StackError(f"no stack description at {path.name} (is the stack running?)") from exc
        except ValueError as exc:
            raise StackError(f"{path.name} is not a stack description: {exc}") from exc
        if not isinstance(data, dict) or "bus_name" not in data:
            raise StackError(f"{path.name} is not a stack description (no bus_name)")
        return data

    return read


class StackSource:
    """What the console reads from.

    Args:
        describe: returns the stack's description (``stack.json``'s content) now.
        http: the client for the stack's HTTP endpoints (default: a new one with short timeouts).
        manifests: the installed services (default: every one); they name each worker's subscriptions.
    """

    def __init__(
        self,
        describe: Callable[[], Description],
        *,
        http: httpx.Client | None = None,
        manifests: Sequence[ServiceManifest] | None = None,
    ) -> None:
        self._describe = describe
        self.http = http or httpx.Client(timeout=httpx.Timeout(3.0, connect=1.0))
        self._manifests = list(load_manifests() if manifests is None else manifests)
        self._target: Target | None = None
        self._target_key: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def description(self) -> Description:
        return self._describe()

    def target(self, info: Description | None = None) -> Target:
        """The operator :class:`Target` of the stack (rebuilt when its endpoint, bus or queues change)."""
        info = info or self.description()
        key = (info.get("aws_endpoint"), info.get("region"), info["bus_name"], json.dumps(info.get("queues")))
        with self._lock:
            if self._target is None or key != self._target_key:
                self._target = description_target(info, manifests=self._manifests)
                self._target_key = key
            return self._target

    def manifest(self, service: str) -> ServiceManifest | None:
        return next((m for m in self._manifests if m.name == service), None)

    def close(self) -> None:
        self.http.close()


def cli_location(info: Description) -> list[str]:
    """The options that point ``tributary dlq …`` at this stack: none for the default local folder,
    ``--data-dir`` for another one, ``--region``/``--bus`` on AWS."""
    if not info.get("aws_endpoint"):
        return ["--region", str(info.get("region")), "--bus", str(info["bus_name"])]
    data_dir = info.get("data_dir")
    if not data_dir or Path(data_dir) == default_data_dir().resolve():
        return []
    return ["--data-dir", _shown_path(Path(data_dir))]


def _shown_path(path: Path) -> str:
    """Relative to the working folder when under it; the operator's own folder otherwise."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
