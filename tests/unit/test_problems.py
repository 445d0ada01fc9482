"""Every error the API gives is RFC 9457 problem+json, and bad input stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from herald import errors
from herald.api.app import create_app

PROBLEM = "application/problem+json"


class PostIn(BaseModel):
    text: str
    platforms: list[str]


@pytest.fixture
def stored() -> list[PostIn]:
    return []


@pytest.fixture
async def client(stored: list[PostIn]) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app()

    # Test-only routes: the foundation has no POST route of its own yet.
    @app.post("/test/posts", status_code=201)
    async def create(post: PostIn) -> dict[str, str]:
        stored.append(post)
        return {"ok": "stored"}

    @app.get("/test/raise/{kind}")
    async def boom(kind: str) -> None:
        raising: dict[str, Exception] = {
            "not_found": errors.NotFound("post p1 not found"),
            "conflict": errors.Conflict("post already published"),
            "rate_limited": errors.RateLimited("publish limit reached", retry_after=12.2),
            "invalid": errors.InvalidInput(
                "bad schedule", [errors.FieldError("scheduled_for", "in the past", "past")]
            ),
            "unhandled": RuntimeError("db password is hunter2"),
        }
        raise raising[kind]

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as test_client:
        yield test_client


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


async def test_a_body_that_is_not_json_is_a_400_problem_and_nothing_is_stored(
    client: httpx.AsyncClient, stored: list[PostIn]
) -> None:
    response = await client.post(
        "/test/posts", content=b"{not json", headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 400)
    assert body["type"].endswith("/malformed-json")
    assert stored == []


async def test_a_body_failing_validation_is_a_422_listing_each_field(
    client: httpx.AsyncClient, stored: list[PostIn]
) -> None:
    response = await client.post("/test/posts", json={"text": 5})

    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"text", "platforms"}
    assert stored == []


async def test_an_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/no-such-thing"), 404)


async def test_a_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/test/posts"), 405)


@pytest.mark.parametrize(
    ("kind", "status"),
    [("not_found", 404), ("conflict", 409), ("rate_limited", 429), ("invalid", 422)],
)
async def test_herald_errors_map_to_their_status(
    client: httpx.AsyncClient, kind: str, status: int
) -> None:
    assert_problem(await client.get(f"/test/raise/{kind}"), status)


async def test_rate_limited_says_when_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/raise/rate_limited")

    assert response.headers["retry-after"] == "13"


async def test_invalid_input_carries_its_field_errors(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/test/raise/invalid"), 422)

    assert body["errors"] == [{"field": "scheduled_for", "message": "in the past", "code": "past"}]


async def test_an_unhandled_exception_is_a_500_that_leaks_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/test/raise/unhandled")

    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert body["type"].endswith("/internal-error")
