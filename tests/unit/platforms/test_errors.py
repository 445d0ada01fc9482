"""The transport boundary and the header parsing every publisher shares."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from herald.platforms.base import ErrorKind
from herald.platforms.errors import (
    by_status,
    from_transport,
    parse_retry_after,
    seconds_until_epoch,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("120", NOW) == 120


def test_retry_after_as_an_http_date() -> None:
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:30 GMT", NOW) == 90


def test_retry_after_in_the_past_is_zero() -> None:
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", NOW) == 0


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_retry_after_that_cannot_be_read_is_none(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_an_epoch_reset_header_is_seconds_from_now() -> None:
    assert seconds_until_epoch(str(int(NOW.timestamp()) + 15), NOW) == 15


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")]
)
def test_nothing_sent_is_transient(exc: httpx.TransportError) -> None:
    assert from_transport("x", "POST", exc).kind is ErrorKind.TRANSIENT


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("reset"),
    ],
)
def test_a_post_that_may_have_arrived_is_ambiguous(exc: httpx.TransportError) -> None:
    assert from_transport("x", "POST", exc).kind is ErrorKind.AMBIGUOUS


def test_a_read_that_timed_out_is_only_transient() -> None:
    assert from_transport("x", "GET", httpx.ReadTimeout("slow")).kind is ErrorKind.TRANSIENT


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, ErrorKind.AUTH_REVOKED),
        (429, ErrorKind.RATE_LIMITED),
        (500, ErrorKind.TRANSIENT),
        (503, ErrorKind.TRANSIENT),
        (400, ErrorKind.INVALID_CONTENT),
        (404, ErrorKind.PLATFORM_ERROR),
    ],
)
def test_status_fallback(status: int, kind: ErrorKind) -> None:
    assert by_status("linkedin", httpx.Response(status), "").kind is kind


def test_a_429_reads_retry_after() -> None:
    error = by_status("linkedin", httpx.Response(429, headers={"Retry-After": "30"}), "slow down")
    assert error.retry_after == 30
