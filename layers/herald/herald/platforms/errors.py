"""What every publisher shares when a call fails: the transport boundary and header parsing.

Each platform module maps its own error bodies; this module owns the rules that are the same for
all of them. The one that matters most: once a POST may have reached the platform (the connection
was made and the request written), a timeout or a dropped connection is `ambiguous`, never
`transient`, because retrying it is how a post goes out twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from herald.accounts import PlatformName
from herald.platforms.base import ErrorKind, PlatformError

# Nothing was sent: the connection never opened, no pooled connection was free, or the request
# was refused on this side before a byte left.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)
# The request may have been written and processed; only the answer was lost.
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def seconds_until_epoch(value: str | None, now: datetime | None = None) -> float | None:
    """A reset header given as epoch seconds (X's `x-rate-limit-reset`) as seconds from now."""
    if value is None:
        return None
    try:
        reset = float(value)
    except ValueError:
        return None
    return max(0.0, reset - (now or datetime.now(UTC)).timestamp())


def from_transport(platform: PlatformName, method: str, exc: httpx.TransportError) -> PlatformError:
    """Translate an httpx transport failure into the error model."""
    name = type(exc).__name__
    if isinstance(exc, _NOT_SENT) or method.upper() in _SAFE_METHODS:
        # A read has no side effect, so even a lost answer is simply worth another try.
        return PlatformError(platform, ErrorKind.TRANSIENT, f"{name} before any answer")
    if isinstance(exc, _MAYBE_SENT):
        return PlatformError(
            platform, ErrorKind.AMBIGUOUS, f"{name}: the request may have been accepted"
        )
    return PlatformError(platform, ErrorKind.AMBIGUOUS, f"{name} while sending the request")


async def send(
    http: httpx.AsyncClient, platform: PlatformName, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """One HTTP call with transport failures already in the error model."""
    try:
        return await http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise from_transport(platform, method, exc) from exc


def by_status(
    platform: PlatformName,
    response: httpx.Response,
    detail: str,
    *,
    platform_code: str | None = None,
    retry_after: float | None = None,
) -> PlatformError:
    """The fallback every platform shares when its body says nothing more specific."""
    status = response.status_code
    if status == 401:
        kind = ErrorKind.AUTH_REVOKED
    elif status == 429:
        kind = ErrorKind.RATE_LIMITED
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
    elif status >= 500:
        kind = ErrorKind.TRANSIENT
        retry_after = retry_after or parse_retry_after(response.headers.get("retry-after"))
    elif status in (400, 413, 415, 422):
        kind = ErrorKind.INVALID_CONTENT
    else:
        kind = ErrorKind.PLATFORM_ERROR
    return PlatformError(
        platform,
        kind,
        detail or f"HTTP {status}",
        status=status,
        platform_code=platform_code,
        retry_after=retry_after,
    )


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or {} when it is not one (an HTML error page, ...)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def unexpected(platform: PlatformName, response: httpx.Response, what: str) -> PlatformError:
    """A 2xx whose body lacks what the documented shape promises: the post's fate is unknown."""
    return PlatformError(
        platform,
        ErrorKind.AMBIGUOUS,
        f"answered {response.status_code} without {what}",
        status=response.status_code,
    )
