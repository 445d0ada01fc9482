"""The API Lambda handler, driven with HTTP API v2 events on moto and real Redis."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from tests.fakes.lambda_events import header, http_event, response_json


@pytest.fixture
def api(container: Container) -> Any:
    from functions.api import app as api_app

    return api_app.handler


@pytest.fixture
def business(container: Container) -> dict[str, Any]:
    return create_business(container, "Acme Bakery")


def _count_items(container: Container) -> int:
    return int(container.table.scan(Select="COUNT")["Count"])


def test_health_is_200_with_each_component_when_all_are_up(api: Any, lambda_context: Any) -> None:
    response = api(http_event("GET", "/health"), lambda_context)
    body = response_json(response)
    assert response["statusCode"] == 200
    assert body["components"]["redis"]["status"] == "up"
    assert body["components"]["dynamodb"]["status"] == "up"
    assert body["components"]["redis"]["latency_ms"] >= 0


def test_health_reports_each_platform_version_and_when_it_ends(
    api: Any, container: Container, lambda_context: Any
) -> None:
    container.__dict__["clock"] = FrozenClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))

    body = response_json(api(http_event("GET", "/health"), lambda_context))

    linkedin, meta = body["platform_versions"]["linkedin"], body["platform_versions"]["meta"]
    assert linkedin["version"] == "202607"
    assert linkedin["ends"] == "2027-07-15"
    assert meta["version"] == "v27.0"
    assert "warning" not in linkedin


def test_health_warns_of_a_retired_linkedin_version_and_stays_200(
    container: Container, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.api import app as api_app

    container.settings = container.settings.model_copy(update={"linkedin_version": "202511"})
    container.__dict__["clock"] = FrozenClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))

    response = api_app.handler(http_event("GET", "/health"), lambda_context)

    assert response["statusCode"] == 200
    warning = response_json(response)["platform_versions"]["linkedin"]["warning"]
    assert "202511 ended on 2026-11-16" in warning
    assert '"PlatformVersionAgeing"' in capsys.readouterr().out


def test_health_is_503_naming_redis_when_redis_is_down(
    container: Container, lambda_context: Any
) -> None:
    import redis.asyncio as aioredis

    from herald import aio

    aio.run(container.aclose())
    container.__dict__["redis"] = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    from functions.api import app as api_app

    response = api_app.handler(http_event("GET", "/health"), lambda_context)
    body = response_json(response)
    assert response["statusCode"] == 503
    assert header(response, "content-type") == "application/problem+json"
    assert body["components"]["redis"]["status"] == "down"
    assert body["components"]["dynamodb"]["status"] == "up"
    assert "redis" in body["detail"]


def test_health_times_each_dependency_s_answer_not_the_making_of_its_client(
    container: Container, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.api import app as api_app

    from herald.api.routes import health

    table = container.table
    del container.__dict__["table"]  # made again, slowly, by the route

    def made_slowly(self: Container) -> Any:
        time.sleep(0.8)  # botocore loading its models in a fresh environment, on a busy machine
        return table

    monkeypatch.setattr(health, "TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(Container, "table", property(made_slowly))

    response = api_app.handler(http_event("GET", "/health"), lambda_context)

    assert response["statusCode"] == 200
    assert response_json(response)["components"]["dynamodb"]["status"] == "up"


def test_authenticated_route_resolves_the_key_to_its_business(
    api: Any, business: dict[str, Any], lambda_context: Any
) -> None:
    event = http_event(
        "GET", "/api/v1/me", headers={"Authorization": f"Bearer {business['api_key']}"}
    )
    response = api(event, lambda_context)
    assert response["statusCode"] == 200
    assert response_json(response)["business_id"] == business["business_id"]


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "malformed Authorization header"),
        ("Bearer not-a-key", "malformed API key"),
        ("Bearer hrld_" + "A" * 43, "invalid or revoked API key"),
    ],
)
def test_bad_credentials_are_a_401_problem(
    api: Any, business: dict[str, Any], lambda_context: Any, authorization: str | None, detail: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = api(http_event("GET", "/api/v1/me", headers=headers), lambda_context)
    body = response_json(response)
    assert response["statusCode"] == 401
    assert header(response, "content-type") == "application/problem+json"
    assert body["status"] == 401
    assert detail in body["detail"]
    assert set(body) >= {"type", "title", "status", "detail"}


def test_a_revoked_key_stops_working_at_once(
    api: Any, container: Container, business: dict[str, Any], lambda_context: Any
) -> None:
    container.businesses.revoke_api_key(business["business_id"], business["key_id"])
    event = http_event(
        "GET", "/api/v1/me", headers={"Authorization": f"Bearer {business['api_key']}"}
    )
    assert api(event, lambda_context)["statusCode"] == 401


def test_an_unknown_route_is_a_404_problem(api: Any, lambda_context: Any) -> None:
    response = api(http_event("GET", "/api/v1/nope"), lambda_context)
    assert response["statusCode"] == 404
    assert header(response, "content-type") == "application/problem+json"
    assert response_json(response)["status"] == 404


def test_api_keys_are_stored_only_as_hashes(container: Container, business: dict[str, Any]) -> None:
    items = container.table.scan()["Items"]
    assert business["api_key"] not in repr(items)
    assert any(item["sk"] == "APIKEY" for item in items)


def test_openapi_description_is_served(api: Any, lambda_context: Any) -> None:
    response = api(http_event("GET", "/openapi.json"), lambda_context)
    assert response["statusCode"] == 200
    assert "/health" in response_json(response)["paths"]


def test_an_unhandled_error_is_a_500_problem_that_leaks_nothing(
    container: Container, business: dict[str, Any], lambda_context: Any
) -> None:
    class Exploding:
        def find_api_key(self, key_hash: str) -> None:
            raise RuntimeError("secret internals: password=hunter2")

    container.__dict__["businesses"] = Exploding()
    from functions.api import app as api_app

    event = http_event(
        "GET", "/api/v1/me", headers={"Authorization": f"Bearer {business['api_key']}"}
    )
    response = api_app.handler(event, lambda_context)
    body = response_json(response)
    assert response["statusCode"] == 500
    assert "hunter2" not in response["body"]
    assert "Traceback" not in response["body"]
    assert body["title"] == "Internal Server Error"
