"""Rate limits through the API Lambda handler: HTTP API v2 events, moto, real Redis."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
import redis
from fastapi import APIRouter
from mangum import Mangum

from herald import aio
from herald.admin.commands import create_business
from herald.api.app import create_app
from herald.api.ratelimit import RateLimit
from herald.container import Container
from herald.ratelimit import RateLimiter, policies_from_settings
from tests.fakes.lambda_events import header, http_event, response_json
from tests.integration.test_ratelimit_redis import FakeTime

ADDRESS = "203.0.113.10"
OTHER_ADDRESS = "198.51.100.7"
UNKNOWN_KEY = "Bearer hrld_" + "A" * 43


class CountingKeys:
    """The business repository, counting API key lookups (each one a DynamoDB read)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lookups = 0

    def find_api_key(self, key_hash: str) -> Any:
        self.lookups += 1
        return self.inner.find_api_key(key_hash)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _limit(container: Container, **overrides: Any) -> FakeTime:
    container.settings = container.settings.model_copy(update=overrides)
    clock = FakeTime()
    container.__dict__["ratelimiter"] = RateLimiter(
        container.redis, policies_from_settings(container.settings), now_us=clock
    )
    return clock


@pytest.fixture
def api(container: Container) -> Any:
    aio.loop()  # Mangum looks for the current loop when the module is imported
    from functions.api import app as api_app

    return api_app.handler


@pytest.fixture
def clock(container: Container) -> FakeTime:
    return _limit(container, rate_limit_default="3/minute")


@pytest.fixture
def acme(container: Container) -> dict[str, Any]:
    return create_business(container, "Acme Bakery")


@pytest.fixture
def globex(container: Container) -> dict[str, Any]:
    return create_business(container, "Globex")


def _me(api: Any, ctx: Any, key: str | None, ip: str = ADDRESS, **headers: str) -> dict[str, Any]:
    if key is not None:
        headers["Authorization"] = key if key.startswith("Bearer ") else f"Bearer {key}"
    response: dict[str, Any] = api(
        http_event("GET", "/api/v1/me", headers=headers, source_ip=ip), ctx
    )
    return response


def test_a_limited_route_carries_the_draft_and_x_headers(
    api: Any, clock: FakeTime, acme: dict[str, Any], lambda_context: Any
) -> None:
    response = _me(api, lambda_context, acme["api_key"])
    assert response["statusCode"] == 200
    assert header(response, "RateLimit-Policy") == '"default";q=3;w=60'
    assert header(response, "RateLimit") == '"default";r=2;t=20'
    assert header(response, "X-RateLimit-Limit") == "3"
    assert header(response, "X-RateLimit-Remaining") == "2"
    assert header(response, "X-RateLimit-Reset") == "20"


def test_over_the_limit_is_a_429_problem_with_retry_after(
    api: Any, clock: FakeTime, acme: dict[str, Any], lambda_context: Any
) -> None:
    for _ in range(3):
        assert _me(api, lambda_context, acme["api_key"])["statusCode"] == 200
    response = _me(api, lambda_context, acme["api_key"])
    body = response_json(response)
    assert response["statusCode"] == 429
    assert header(response, "content-type") == "application/problem+json"
    assert header(response, "Retry-After") == "20"
    assert header(response, "RateLimit") == '"default";r=0;t=20'
    assert header(response, "X-RateLimit-Remaining") == "0"
    assert header(response, "X-RateLimit-Reset") == "20"
    assert body["status"] == 429
    assert body["policy"] == "default"


def test_businesses_have_separate_budgets(
    api: Any,
    clock: FakeTime,
    acme: dict[str, Any],
    globex: dict[str, Any],
    lambda_context: Any,
) -> None:
    for _ in range(4):
        _me(api, lambda_context, acme["api_key"])
    assert _me(api, lambda_context, acme["api_key"])["statusCode"] == 429
    assert _me(api, lambda_context, globex["api_key"])["statusCode"] == 200


def test_the_budget_comes_back_with_time(
    api: Any, clock: FakeTime, acme: dict[str, Any], lambda_context: Any
) -> None:
    for _ in range(4):
        _me(api, lambda_context, acme["api_key"])
    clock.advance(20)
    response = _me(api, lambda_context, acme["api_key"])
    assert response["statusCode"] == 200
    assert header(response, "X-RateLimit-Remaining") == "0"
    clock.advance(60)
    assert header(_me(api, lambda_context, acme["api_key"]), "X-RateLimit-Remaining") == "2"


def test_failed_authentication_is_limited_per_address(
    api: Any, clock: FakeTime, acme: dict[str, Any], lambda_context: Any
) -> None:
    statuses = [_me(api, lambda_context, UNKNOWN_KEY)["statusCode"] for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert _me(api, lambda_context, UNKNOWN_KEY, ip=OTHER_ADDRESS)["statusCode"] == 401


def test_a_401_shows_the_failure_budget_left(
    api: Any, clock: FakeTime, lambda_context: Any
) -> None:
    response = _me(api, lambda_context, UNKNOWN_KEY)
    assert response["statusCode"] == 401
    assert header(response, "RateLimit") == '"auth_failures";r=4;t=12'


def test_a_valid_key_still_works_from_an_address_over_its_failure_budget(
    api: Any, clock: FakeTime, acme: dict[str, Any], lambda_context: Any
) -> None:
    for _ in range(6):
        _me(api, lambda_context, UNKNOWN_KEY)
    assert _me(api, lambda_context, acme["api_key"])["statusCode"] == 200


def test_malformed_credentials_from_a_refused_address_skip_the_key_lookup(
    api: Any, container: Container, clock: FakeTime, lambda_context: Any
) -> None:
    keys = CountingKeys(container.businesses)
    container.__dict__["businesses"] = keys
    for _ in range(6):
        _me(api, lambda_context, UNKNOWN_KEY)
    lookups = keys.lookups
    for authorization in (None, "Basic dXNlcjpwYXNz", "Bearer nope"):
        response = _me(api, lambda_context, authorization)
        assert response["statusCode"] == 429
        assert header(response, "Retry-After") == "12"
    assert keys.lookups == lookups


def test_a_forged_x_forwarded_for_changes_nothing(
    api: Any, clock: FakeTime, lambda_context: Any
) -> None:
    # Every failure comes from ADDRESS, each claiming to be someone else.
    for i in range(5):
        forged = {"X-Forwarded-For": f"192.0.2.{i}, {OTHER_ADDRESS}"}
        assert _me(api, lambda_context, UNKNOWN_KEY, **forged)["statusCode"] == 401
    forged = {"X-Forwarded-For": OTHER_ADDRESS}
    assert _me(api, lambda_context, UNKNOWN_KEY, **forged)["statusCode"] == 429
    # ...and the address it named has spent nothing.
    response = _me(api, lambda_context, UNKNOWN_KEY, ip=OTHER_ADDRESS)
    assert response["statusCode"] == 401
    assert header(response, "RateLimit") == '"auth_failures";r=4;t=12'


def test_limits_can_be_turned_off(
    api: Any, container: Container, acme: dict[str, Any], lambda_context: Any
) -> None:
    _limit(container, rate_limit_enabled=False, rate_limit_default="1/minute")
    responses = [_me(api, lambda_context, acme["api_key"]) for _ in range(3)]
    assert [r["statusCode"] for r in responses] == [200, 200, 200]
    assert header(responses[-1], "RateLimit") is None
    failures = [_me(api, lambda_context, UNKNOWN_KEY)["statusCode"] for _ in range(7)]
    assert failures == [401] * 7


def test_the_openapi_description_shows_the_limits(container: Container) -> None:
    schema = create_app(container).openapi()
    operation = schema["paths"]["/api/v1/me"]["get"]
    assert operation["x-ratelimit"] == [
        {"policy": "default", "limit": 300, "window_seconds": 60, "key": "business"}
    ]
    assert "429" in operation["responses"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert schema["paths"]["/health"]["get"]["x-ratelimit"][0]["key"] == "address"


def test_a_route_limited_by_its_router_and_by_itself_spends_each_policy_once(
    container: Container, acme: dict[str, Any], lambda_context: Any
) -> None:
    _limit(container, rate_limit_publish="5/minute", rate_limit_analytics="7/minute")
    router = APIRouter(dependencies=[RateLimit("publish")])

    @router.get("/twice", dependencies=[RateLimit("publish"), RateLimit("analytics")])
    async def twice() -> dict[str, str]:
        return {}

    app = create_app(container)
    app.include_router(router, prefix="/api/v1")
    aio.loop()
    handler = Mangum(app, lifespan="off")
    event = http_event(
        "GET", "/api/v1/twice", headers={"Authorization": f"Bearer {acme['api_key']}"}
    )
    response = handler(event, lambda_context)
    assert response["statusCode"] == 200
    assert header(response, "RateLimit") == (
        '"publish";r=4;t=12, "default";r=299;t=1, "analytics";r=6;t=9'
    )


# --- what a request spends -------------------------------------------------------------------
def _schedule(
    api: Any, ctx: Any, business: dict[str, Any], body: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {business['api_key']}"}
    if key:
        headers["Idempotency-Key"] = key
    response: dict[str, Any] = api(
        http_event("POST", "/api/v1/schedule", headers=headers, body=body), ctx
    )
    return response


def _left(response: dict[str, Any]) -> dict[str, int]:
    """Remaining quota per policy, from the draft RateLimit field."""
    left = {}
    for item in (header(response, "RateLimit") or "").split(", "):
        name, remaining, _ = item.split(";")
        left[name.strip('"')] = int(remaining.removeprefix("r="))
    return left


@pytest.fixture
def account(container: Container, acme: dict[str, Any]) -> str:
    from tests.fakes.scheduling import connect_account

    return connect_account(container, acme["business_id"], "linkedin")


def _post(account: str, text: str = "Fresh bread") -> dict[str, Any]:
    return {"account_ids": [account], "text": text, "scheduled_for": "2030-01-01T09:00:00Z"}


def test_a_replay_of_an_idempotency_key_spends_no_quota(
    api: Any, container: Container, acme: dict[str, Any], account: str, lambda_context: Any
) -> None:
    _limit(container, rate_limit_publish="3/hour", rate_limit_default="10/minute")
    container.__dict__["clock"] = _frozen_at("2029-12-31T09:00:00Z")
    first = _schedule(api, lambda_context, acme, _post(account), key="k-1")

    replays = [_schedule(api, lambda_context, acme, _post(account), key="k-1") for _ in range(5)]
    another = _schedule(api, lambda_context, acme, _post(account, "Rye"), key="k-2")

    assert first["statusCode"] == 201
    assert _left(first) == {"publish": 2, "default": 9}
    assert [(r["statusCode"], header(r, "idempotent-replayed")) for r in replays] == [
        (201, "true")
    ] * 5
    assert [_left(r) for r in replays] == [{"publish": 2, "default": 9}] * 5
    assert _left(another) == {"publish": 1, "default": 8}


def test_a_request_refused_as_invalid_spends_the_ceiling_not_the_publish_quota(
    api: Any, container: Container, acme: dict[str, Any], account: str, lambda_context: Any
) -> None:
    _limit(container, rate_limit_publish="2/hour", rate_limit_default="10/minute")
    container.__dict__["clock"] = _frozen_at("2029-12-31T09:00:00Z")
    invalid = [
        _schedule(api, lambda_context, acme, {**_post(account), "scheduled_for": "soon"}),
        _schedule(api, lambda_context, acme, {**_post(account), "text": "x" * 3001}),
        _schedule(api, lambda_context, acme, {**_post(account), "extra": 1}),
    ]

    valid = [_schedule(api, lambda_context, acme, _post(account, t)) for t in ("a", "b", "c")]

    assert [r["statusCode"] for r in invalid] == [422, 422, 422]
    assert [_left(r) for r in invalid] == [
        {"publish": 2, "default": 9},
        {"publish": 2, "default": 8},
        {"publish": 2, "default": 7},
    ]
    assert [r["statusCode"] for r in valid] == [201, 201, 429]


def test_retry_after_and_the_reset_fields_agree_on_a_refusal(
    api: Any, container: Container, acme: dict[str, Any], account: str, lambda_context: Any
) -> None:
    clock = _limit(container, rate_limit_publish="2/hour", rate_limit_default="10/minute")
    container.__dict__["clock"] = _frozen_at("2029-12-31T09:00:00Z")
    for text in ("a", "b"):
        _schedule(api, lambda_context, acme, _post(account, text))
    clock.advance(100)

    refused = _schedule(api, lambda_context, acme, _post(account, "c"))

    assert refused["statusCode"] == 429
    # One unit of a 2/hour policy comes back every 1,800 s; 100 have passed.
    assert header(refused, "Retry-After") == "1700"
    assert header(refused, "X-RateLimit-Reset") == "1700"
    assert '"publish";r=0;t=1700' in (header(refused, "RateLimit") or "")


def _frozen_at(when: str) -> Any:
    from herald.clock import FrozenClock, parse_iso

    return FrozenClock(parse_iso(when))


# --- Redis stopped and restarted under a running API ----------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own, on a spare port, that the test may stop and restart."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.1)
        try:
            for _ in range(100):
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.02)
            raise RuntimeError("redis-server did not start")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            self.process = None

    def keys(self) -> list[bytes]:
        client = redis.Redis(port=self.port)
        try:
            return cast(list[bytes], client.keys("herald:rl:*"))
        finally:
            client.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_the_api_keeps_answering_while_redis_goes_away_and_comes_back(
    api: Any,
    container: Container,
    acme: dict[str, Any],
    own_redis: RedisServer,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(
        f"redis://127.0.0.1:{own_redis.port}/0", socket_timeout=0.05, socket_connect_timeout=0.05
    )
    limiter = RateLimiter(client, policies_from_settings(container.settings), retry_every=0.0)
    container.__dict__["ratelimiter"] = limiter
    try:
        assert _me(api, lambda_context, acme["api_key"])["statusCode"] == 200
        assert not limiter.degraded
        assert own_redis.keys()

        own_redis.stop()
        capsys.readouterr()
        for _ in range(3):
            response = _me(api, lambda_context, acme["api_key"])
            assert response["statusCode"] == 200
            assert header(response, "RateLimit") is not None
        assert limiter.degraded
        assert any("rate limiter degraded" in r.getMessage() for r in caplog.records)
        out = capsys.readouterr().out
        emitted = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
        assert any("RateLimiterDegraded" in line for line in emitted)

        own_redis.start()  # empty, so the script is loaded again on NOSCRIPT
        response = _me(api, lambda_context, acme["api_key"])
        assert response["statusCode"] == 200
        assert not limiter.degraded
        assert own_redis.keys()
    finally:
        aio.run(client.aclose())
