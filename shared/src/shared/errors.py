"""The one error tree: every leaf says what happens to the message next.

- :class:`RetryableError`: throttling, timeouts, a store that is down. The runtime backs off (message
  visibility) and retries; after the last attempt the message goes to the DLQ with the reason.
- :class:`StoreUnavailable` (a :class:`RetryableError`): the store itself is out (connection refused,
  timeouts, throttling, 5xx). It is not the message's fault: the runtime keeps the message without spending
  its attempts, stops receiving while the outage lasts (a circuit breaker) and never dead-letters for it.
- :class:`PermanentError`: a contract or validation failure. Retrying cannot help: the message goes to the
  DLQ at once, with the reason.

Adapters translate library errors (``botocore``, drivers) into these with ``raise ... from exc``.
"""

from __future__ import annotations


class TributaryError(Exception):
    """Base of every error the platform raises on purpose."""


class RetryableError(TributaryError):
    """A transient failure: retry later with backoff.

    ``retry_after_s``: the earliest a retry can help (a lease held by another writer runs that much longer);
    the runtime backs off at least that long, so one wait spends one attempt.
    """

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreUnavailable(RetryableError):
    """The store is unreachable, timing out, throttling or failing (5xx): an outage, not this message's fault.

    Adapters raise it (or return it for every event of a write) only for failures of the store itself,
    never for a request the store refused because of what it held.
    """


class PermanentError(TributaryError):
    """A failure that no retry can fix: dead-letter with the reason.

    ``reason`` is the DLQ's ``tributary.reason`` attribute; subclasses name a more precise one.
    """

    reason: str = "permanent"


class ContractError(PermanentError):
    """The message is not a valid envelope of a known contract."""
