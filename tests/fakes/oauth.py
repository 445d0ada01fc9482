"""Fixtures for the OAuth tests: a container whose platforms are the in-process sandbox.

Every platform base URL points at `http://sandbox.test`, and the container's httpx client sends
there through `httpx.ASGITransport`, so the adapters speak real HTTP to the sandbox app without a
port. Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis

from herald import aio
from herald import container as composition
from herald.accounts import Account
from herald.admin.commands import create_business
from herald.clock import FrozenClock, parse_iso
from herald.container import Container
from herald.local.sandbox import platform_env
from herald.local.sandbox.app import create_app as create_sandbox
from herald.local.sandbox.state import SandboxState
from herald.local.template import LocalResources
from herald.oauth import service
from herald.settings import Settings
from tests.conftest import LIVE_REDIS_TIMEOUT, REDIS_URL
from tests.fakes.lambda_events import http_event

SANDBOX = "http://sandbox.test"
KEY_A = "oNwQeGdIwzS_m8BTiU-dBGpz5RpaRGsA52fW-a_CcUI="
KEY_B = "yhLXPIO-p281H4_6N2v44b_SsRcMbYiWO1mZVbWFSqw="


def sandbox_settings(resources: LocalResources, **extra: Any) -> Settings:
    platforms: dict[str, Any] = {k.lower(): v for k, v in platform_env(SANDBOX).items()}
    return Settings(
        HERALD_ENV="test",
        TABLE_NAME=resources.table_name,
        EVENTS_TOPIC_ARN=resources.topic_arns.get("EventsTopic", ""),
        MEDIA_BUCKET=resources.media_bucket,
        REDIS_URL=REDIS_URL,
        REDIS_SOCKET_TIMEOUT=extra.pop("REDIS_SOCKET_TIMEOUT", LIVE_REDIS_TIMEOUT),
        REDIS_CONNECT_TIMEOUT=extra.pop("REDIS_CONNECT_TIMEOUT", LIVE_REDIS_TIMEOUT),
        TOKEN_ENCRYPTION_KEYS=KEY_A,
        RATE_LIMIT_ENABLED="false",
        PUBLIC_API_URL="https://api.herald.test",
        FRONTEND_URL="https://app.herald.test/connect",
        **platforms,
        **extra,
    )


def sandbox_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX)


@pytest.fixture
def oauth_settings(resources: LocalResources) -> Settings:
    return sandbox_settings(resources)


@pytest.fixture
def sandbox(oauth_settings: Settings) -> SandboxState:
    return SandboxState.for_settings(oauth_settings)


@pytest.fixture
def sandbox_app(sandbox: SandboxState) -> Any:
    return create_sandbox(state=sandbox)


@pytest.fixture
def oauth_clock() -> FrozenClock:
    from datetime import UTC, datetime

    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def oauth_container(
    oauth_settings: Settings,
    aws: Any,
    redis_sync: redis.Redis,
    sandbox_app: Any,
    oauth_clock: FrozenClock,
) -> Iterator[Container]:
    built = Container(
        oauth_settings,
        boto_session=aws,
        http=sandbox_client(sandbox_app),
        clock=oauth_clock,
    )
    composition.set_container(built)
    yield built
    composition.set_container(None)
    aio.run(built.aclose())


@pytest.fixture
def api(oauth_container: Container) -> Any:
    aio.loop()  # the handler module may build Mangum at import, which wants a current loop
    from functions.api import app as api_app

    return api_app.handler


@pytest.fixture
def business(oauth_container: Container) -> dict[str, Any]:
    return create_business(oauth_container, "Acme Bakery")


@pytest.fixture
def other_business(oauth_container: Container) -> dict[str, Any]:
    return create_business(oauth_container, "Other Co")


def bearer(business: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {business['api_key']}"}


def follow_platform(sandbox_app: Any, authorization_url: str) -> dict[str, str]:
    """What a browser does at the platform: open the consent URL and follow its redirect back.
    Returns the callback's query (code and state)."""

    async def go() -> httpx.Response:
        async with sandbox_client(sandbox_app) as client:
            return await client.get(authorization_url)

    response = aio.run(go())
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    query = parse_qs(urlsplit(location).query)
    return {k: v[0] for k, v in query.items()}


def start(api: Any, ctx: Any, business: dict[str, Any], platform: str) -> dict[str, Any]:
    response = api(
        http_event("GET", f"/api/v1/oauth/{platform}/authorize", headers=bearer(business)), ctx
    )
    assert response["statusCode"] == 200, response.get("body")
    started: dict[str, Any] = json.loads(response["body"])
    return started


def callback_event(
    platform: str,
    query: dict[str, str],
    *,
    json_wanted: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    all_headers = dict(headers or {})
    if json_wanted:
        all_headers["Accept"] = "application/json"
    return http_event("GET", f"/api/v1/oauth/{platform}/callback", query=query, headers=all_headers)


def confirm_event(business: dict[str, Any], platform: str, confirmation: str) -> dict[str, Any]:
    return http_event(
        "POST",
        f"/api/v1/oauth/{platform}/confirm",
        headers=bearer(business),
        body={"confirmation": confirmation},
    )


def confirmation_of(response: dict[str, Any]) -> str:
    """The one-time confirmation a keyless callback answered with, redirect or JSON."""
    if response["statusCode"] == 302:
        location: str = next(v for k, v in response["headers"].items() if k.lower() == "location")
        return parse_qs(urlsplit(location).query)["confirm"][0]
    confirmation: str = json.loads(response["body"])["confirmation"]
    return confirmation


def connect_through_api(
    api: Any, ctx: Any, business: dict[str, Any], sandbox_app: Any, platform: str
) -> dict[str, Any]:
    """The whole connection as the dashboard makes it: authorize, the browser at the platform and
    back on the callback, then the confirmation with the business's key. The confirm answer."""
    back = follow_platform(sandbox_app, start(api, ctx, business, platform)["authorization_url"])
    held = api(callback_event(platform, back), ctx)
    assert held["statusCode"] == 302, held.get("body")
    confirmed = api(confirm_event(business, platform, confirmation_of(held)), ctx)
    assert confirmed["statusCode"] == 200, confirmed.get("body")
    body: dict[str, Any] = json.loads(confirmed["body"])
    return body


def state_of(authorization_url: str) -> str:
    return parse_qs(urlsplit(authorization_url).query)["state"][0]


def account_items(container: Container) -> list[dict[str, Any]]:
    items = container.table.scan()["Items"]
    return [i for i in items if i.get("type") == "account"]


def topic_reader(container: Container, aws: Any) -> Callable[[], list[dict[str, Any]]]:
    """Subscribe a queue to the events topic; the returned function drains what arrived."""
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="events-probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.client("sns").subscribe(
        TopicArn=container.settings.topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return found
            for m in messages:
                found.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    return read


def connect(
    container: Container, sandbox_app: Any, business_id: str, provider: str
) -> list[Account]:
    started = aio.run(service.authorize(container.oauth_ports, business_id, provider))
    query = follow_platform(sandbox_app, started.authorization_url)
    return aio.run(
        service.complete(container.oauth_ports, provider, state=query["state"], code=query["code"])
    )


def until_expiry(clock: FrozenClock, account: Account, seconds_left: float) -> None:
    assert account.token_expires_at is not None
    clock.set(parse_iso(account.token_expires_at))
    clock.advance(-seconds_left)
