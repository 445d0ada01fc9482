"""DynamoDB out of reach, translated once at the table for every repository.

The repositories call the boto3 Table (and its client) directly. When DynamoDB cannot be reached
(no connection, no answer in time) or answers that it cannot serve now (throttling past
botocore's own retries, an internal error), the call raises DependencyUnavailable instead of
botocore's exception, so the API answers 503 with Retry-After on every route rather than a 500,
and the worker and the tick fail their record or run the way they fail on any other outage.

Translated by type and error code, never by message text. Everything else (a conditional check
that failed, a validation error, which is a bug) passes through untouched: the repositories
decide what those mean.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from herald.errors import DependencyUnavailable

COMPONENT = "dynamodb"
# DynamoDB's codes for "not now" (its documentation's 5xx and throttling errors), after botocore's
# standard retry mode has already tried again.
_NOT_NOW = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    }
)


def unreachable(exc: BaseException) -> bool:
    if not type(exc).__module__.startswith("botocore"):
        return False  # botocore is loaded already if it raised: no import on the happy path
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ConnectionError | HTTPClientError):
        return True  # refused, timed out, closed mid-answer: nothing usable came back
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in _NOT_NOW
    return False


def _guarded[**P, R](call: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(call)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if unreachable(exc):
                raise DependencyUnavailable(
                    f"DynamoDB cannot be reached now ({type(exc).__name__}); retry shortly",
                    COMPONENT,
                ) from exc
            raise

    return guarded


class _Guarding:
    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        return _guarded(value) if callable(value) else value


class _Meta:
    def __init__(self, meta: Any) -> None:
        self._meta = meta
        self.client = _Guarding(meta.client)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._meta, name)


class GuardedTable(_Guarding):
    """A boto3 Table whose calls, and its client's (`table.meta.client`), translate DynamoDB
    being out of reach into DependencyUnavailable."""

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.meta = _Meta(table.meta)
        self.name: str = table.name
