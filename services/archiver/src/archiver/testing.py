"""In-memory fake of :class:`~archiver.ports.ArchiveStore`."""

from __future__ import annotations

from shared.errors import StoreUnavailable


class InMemoryArchiveStore:
    """Objects in a dict; set ``down`` to make every call fail as an outage would."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False

    def put(self, key: str, body: bytes) -> None:
        if self.down:
            raise StoreUnavailable("archive store is down")
        self.objects[key] = body

    def exists(self, key: str) -> bool:
        if self.down:
            raise StoreUnavailable("archive store is down")
        return key in self.objects
