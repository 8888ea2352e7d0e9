"""Neptune adapter of :class:`~graph_writer.ports.GraphStore`: openCypher through boto3 ``neptunedata``.

Each query is one ``ExecuteOpenCypherQuery`` with the shared text of :mod:`graph_writer.cypher` and its
parameters as JSON; boto3 signs it (SigV4, IAM auth) like any AWS call. Node ids are Neptune custom ``~id``
values, prefixed by label (``device:…``) so they stay unique across the graph.

Conflicts and throttling (``ConcurrentModificationException``, ``TooManyRequestsException``, 5xx…) are
retried here with exponential backoff and full jitter (tenacity, bounded attempts), then surface as
:class:`~shared.errors.RetryableError`; errors about the query or its data are
:class:`~shared.errors.PermanentError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from graph_writer.adapters.cypher_store import CypherGraphStore
from shared.errors import PermanentError, RetryableError, StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient

TRANSIENT_CODES = frozenset(
    {
        "ConcurrentModificationException",
        "TooManyRequestsException",
        "ThrottlingException",
        "QueryLimitExceededException",
        "MemoryLimitExceededException",
        "CancelledByMaintenanceException",
        "ClientTimeoutException",
        "ServiceUnavailableException",
        "InternalFailureException",
    }
)
"""Codes retried in place: the same query is expected to succeed shortly."""

PERMANENT_CODES = frozenset(
    {
        "BadRequestException",
        "MalformedQueryException",
        "ParsingException",
        "InvalidParameterException",
        "InvalidArgumentException",
        "IllegalArgumentException",
        "MissingParameterException",
        "InvalidNumericDataException",
        "UnsupportedOperationException",
        "ConstraintViolationException",
        "QueryTooLargeException",
        "FailureByQueryException",
    }
)
"""Codes about the query or its data: the same query can never succeed."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        return _code(exc) in TRANSIENT_CODES or (_status(exc) >= 500 and _code(exc) not in PERMANENT_CODES)
    return isinstance(exc, BotoCoreError)


class NeptuneGraphStore(CypherGraphStore):
    """A Neptune graph, through an injected boto3 ``neptunedata`` client (its endpoint is the cluster's).

    Args:
        client: ``boto3.client("neptunedata", endpoint_url="https://<cluster>:8182")``.
        rows_per_call: rows unwound per write query (100-200 keeps requests small and conflicts rare).
        max_attempts: attempts per query on conflicts and throttling.
        backoff_max_s: the cap of one backoff wait.
        sleep: how the retries wait (tests pass a recorder).
    """

    def __init__(
        self,
        *,
        client: NeptuneDataClient,
        rows_per_call: int = 150,
        max_attempts: int = 6,
        backoff_max_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rows_per_call=rows_per_call)
        self._client = client
        self._retrying = Retrying(
            stop=stop_after_attempt(max_attempts),
            wait=wait_random_exponential(multiplier=0.1, max=backoff_max_s),
            retry=retry_if_exception(_transient),
            sleep=sleep,
            reraise=True,
        )

    def _run(self, query: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
        try:
            response = self._retrying(
                self._client.execute_open_cypher_query, openCypherQuery=query, parameters=body
            )
        except ClientError as exc:
            code = _code(exc)
            if code in PERMANENT_CODES:
                raise PermanentError(f"Neptune rejected the query ({code}): {exc}") from exc
            error = StoreUnavailable if _transient(exc) else RetryableError
            raise error(f"Neptune query failed ({code or _status(exc)}): {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"Neptune unreachable: {exc}") from exc
        # the stub types ``results`` as any JSON document; openCypher answers with a list of rows
        results = cast("list[dict[str, Any]]", response.get("results") or [])
        return results
