"""Request bodies are limited to settings.max_body_bytes (256 KiB): larger ones are a 413 problem
before anything reads them whole, announced (Content-Length) or streamed (chunked)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from herald.container import Container
from tests.fakes.api_stack import ApiCaller

LIMIT = 256 * 1024


def _padded_body(size: int) -> bytes:
    prefix, suffix = b'{"account_ids":["acc_x"],"text":"', b'"}'
    return prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix


def test_the_limit_is_256_kib(oauth_container: Container) -> None:
    assert oauth_container.settings.max_body_bytes == LIMIT


def test_a_declared_length_over_the_limit_is_a_413_problem(api_call: ApiCaller) -> None:
    response = api_call(
        "POST",
        "/api/v1/publish/twitter",
        content=_padded_body(LIMIT + 1),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_a_streamed_body_over_the_limit_is_a_413_problem(api_call: ApiCaller) -> None:
    body = _padded_body(LIMIT + 10)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = api_call(
        "POST",
        "/api/v1/schedule",
        content=chunks(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer hrld_" + "a" * 43},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_body_at_the_limit_is_read_and_judged_on_its_content(api_call: ApiCaller) -> None:
    response = api_call(
        "POST",
        "/api/v1/publish/twitter",
        content=_padded_body(LIMIT),
        headers={"Content-Type": "application/json"},
    )

    # Unauthenticated, so a 401; the point is that the size alone did not refuse it.
    assert response.status_code == 401
