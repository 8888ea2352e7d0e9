"""In-memory fake of :class:`~archiver.ports.ArchiveStore`."""

from __future__ import annotations

from shared.errors import RetryableError, StoreUnavailable


class InMemoryArchiveStore:
    """Objects in a dict; set ``down`` to make every call fail as an outage would.

    ``put_error`` makes every put raise it (e.g. :class:`~archiver.ports.WriteOutcomeUnknown`), after
    storing the object when ``lands_despite_error`` is set (a reply lost on its way back).
    """

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False
        self.put_error: RetryableError | None = None
        self.lands_despite_error = False
        self.puts = 0

    def put(self, key: str, body: bytes) -> None:
        self.puts += 1
        if self.down:
            raise StoreUnavailable("archive store is down")
        if self.put_error is not None:
            if self.lands_despite_error:
                self.objects[key] = body
            raise self.put_error
        self.objects[key] = body

    def exists(self, key: str) -> bool:
        if self.down:
            raise StoreUnavailable("archive store is down")
        return key in self.objects
