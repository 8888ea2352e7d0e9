"""The one error tree: every leaf says what happens to the message next.

- :class:`RetryableError`: throttling, timeouts, a store that is down. The runtime backs off (message
  visibility) and retries; after the last attempt the message goes to the DLQ with the reason.
- :class:`PermanentError`: a contract or validation failure. Retrying cannot help: the message goes to the
  DLQ at once, with the reason.

Adapters translate library errors (``botocore``, drivers) into these with ``raise ... from exc``.
"""

from __future__ import annotations


class TributaryError(Exception):
    """Base of every error the platform raises on purpose."""


class RetryableError(TributaryError):
    """A transient failure: retry later with backoff."""


class PermanentError(TributaryError):
    """A failure that no retry can fix: dead-letter with the reason.

    ``reason`` is the DLQ's ``tributary.reason`` attribute; subclasses name a more precise one.
    """

    reason: str = "permanent"


class ContractError(PermanentError):
    """The message is not a valid envelope of a known contract."""
