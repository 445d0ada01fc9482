"""The OAuth state: single use, ten minutes, bound to one business and one platform; every
rejected callback is a clear error and stores nothing. A callback without a key holds the
accounts until the business that started the flow confirms them with its key."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from herald import aio
from herald.container import Container
from herald.errors import DependencyUnavailable
from herald.local.sandbox.state import SandboxState
from herald.oauth import service
from herald.oauth.confirmations import ConfirmationStore
from herald.oauth.state import _CONSUME as consume_script
from herald.oauth.state import InvalidState
from herald.settings import Settings
from tests.fakes.lambda_events import header, http_event, response_json
from tests.fakes.oauth import (
    account_items,
    bearer,
    callback_event,
    confirm_event,
    confirmation_of,
    follow_platform,
    sandbox_client,
    start,
    state_of,
)


def _connect_query(
    api: Any, ctx: Any, business: dict[str, Any], sandbox_app: Any, platform: str = "x"
) -> dict[str, str]:
    return follow_platform(sandbox_app, start(api, ctx, business, platform)["authorization_url"])


def _assert_invalid_state(response: dict[str, Any], container: Container, detail: str) -> None:
    assert response["statusCode"] == 400, response.get("body")
    assert header(response, "content-type") == "application/problem+json"
    body = response_json(response)
    assert body["type"].endswith("/invalid-oauth-state")
    assert detail in body["detail"]
    assert account_items(container) == []


def test_the_state_is_stored_in_redis_for_ten_minutes(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    redis_sync: redis.Redis,
) -> None:
    started = start(api, lambda_context, business, "x")
    key = f"oauth:state:{state_of(started['authorization_url'])}"
    assert 595 <= cast(int, redis_sync.ttl(key)) <= 600
    stored = json.loads(cast(bytes | None, redis_sync.get(key)) or b"{}")
    assert stored["business_id"] == business["business_id"]
    assert stored["provider"] == "x"
    assert stored["redirect_uri"] == "https://api.herald.test/api/v1/oauth/x/callback"
    assert len(stored["code_verifier"]) >= 43
    assert len(state_of(started["authorization_url"])) == 43  # 256 bits


def _held(api: Any, ctx: Any, business: dict[str, Any], sandbox_app: Any) -> str:
    """A keyless callback's confirmation: the accounts it exchanged, held for the business."""
    query = _connect_query(api, ctx, business, sandbox_app)
    return confirmation_of(api(callback_event("x", query), ctx))


def test_a_reused_state_is_a_400_and_changes_nothing(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)
    assert api(callback_event("x", query), lambda_context)["statusCode"] == 302
    before = account_items(oauth_container)

    response = api(callback_event("x", query), lambda_context)

    assert response["statusCode"] == 400
    assert "already used" in response_json(response)["detail"]
    assert account_items(oauth_container) == before


def test_an_expired_state_is_a_400_and_stores_nothing(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
    redis_sync: redis.Redis,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)
    # The TTL is what expires a state; shorten it rather than wait ten minutes.
    redis_sync.pexpire(f"oauth:state:{query['state']}", 1)
    time.sleep(0.01)

    response = api(callback_event("x", query), lambda_context)

    _assert_invalid_state(response, oauth_container, "expired")


def test_an_unknown_or_malformed_state_is_a_400(
    api: Any,
    lambda_context: Any,
    oauth_container: Container,
) -> None:
    for state in ("A" * 43, "short", ""):
        response = api(callback_event("x", {"state": state, "code": "c"}), lambda_context)
        _assert_invalid_state(response, oauth_container, "state")


def test_a_state_made_for_another_platform_is_a_400(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app, "linkedin")

    response = api(callback_event("x", query), lambda_context)

    _assert_invalid_state(response, oauth_container, "another platform")
    # Refused without being spent: the right path still completes it.
    assert api(callback_event("linkedin", query), lambda_context)["statusCode"] == 302


def test_a_state_presented_with_another_business_key_is_a_400(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    other_business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)

    response = api(callback_event("x", query, headers=bearer(other_business)), lambda_context)

    _assert_invalid_state(response, oauth_container, "another business")
    # Refused without being spent: the business that started it still completes it.
    mine = callback_event("x", query, json_wanted=True, headers=bearer(business))
    assert response_json(api(mine, lambda_context))["connected"]


def test_a_callback_with_no_key_stores_nothing_until_the_business_confirms(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)

    held = api(callback_event("x", query), lambda_context)

    assert held["statusCode"] == 302
    assert account_items(oauth_container) == []
    confirmed = api(confirm_event(business, "x", confirmation_of(held)), lambda_context)
    assert confirmed["statusCode"] == 200
    assert len(oauth_container.accounts.list_for_business(business["business_id"])) == 1


def test_another_business_cannot_confirm_an_account_it_did_not_start_connecting(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    other_business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    # A business sends its consent link to someone; the account they connect is held for it.
    confirmation = _held(api, lambda_context, business, sandbox_app)

    theirs = api(confirm_event(other_business, "x", confirmation), lambda_context)

    assert theirs["statusCode"] == 400
    assert response_json(theirs)["type"].endswith("/invalid-confirmation")
    assert account_items(oauth_container) == []
    # Not spent by the refusal.
    assert api(confirm_event(business, "x", confirmation), lambda_context)["statusCode"] == 200


def test_a_confirmation_is_single_use_and_for_its_own_platform(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    confirmation = _held(api, lambda_context, business, sandbox_app)

    elsewhere = api(confirm_event(business, "linkedin", confirmation), lambda_context)
    first = api(confirm_event(business, "x", confirmation), lambda_context)
    again = api(confirm_event(business, "x", confirmation), lambda_context)

    assert [r["statusCode"] for r in (elsewhere, first, again)] == [400, 200, 400]
    assert len(account_items(oauth_container)) == 1


def test_a_confirmation_expires_with_the_state_lifetime(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
    redis_sync: redis.Redis,
) -> None:
    confirmation = _held(api, lambda_context, business, sandbox_app)
    key = f"oauth:confirm:{business['business_id']}:x:{confirmation}"
    assert 590 <= cast(int, redis_sync.ttl(key)) <= 600
    redis_sync.pexpire(key, 1)
    time.sleep(0.01)

    response = api(confirm_event(business, "x", confirmation), lambda_context)

    assert response["statusCode"] == 400
    assert account_items(oauth_container) == []


def test_the_state_binds_the_account_to_the_business_that_started(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    other_business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)
    held = api(callback_event("x", query), lambda_context)
    api(confirm_event(business, "x", confirmation_of(held)), lambda_context)

    assert oauth_container.accounts.list_for_business(other_business["business_id"]) == []
    assert len(oauth_container.accounts.list_for_business(business["business_id"])) == 1


def test_a_wrong_pkce_verifier_is_refused_by_the_platform_and_stores_nothing(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
    redis_sync: redis.Redis,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)
    key = f"oauth:state:{query['state']}"
    pending = json.loads(cast(bytes | None, redis_sync.get(key)) or b"{}")
    pending["code_verifier"] = "w" * 64
    redis_sync.set(key, json.dumps(pending), keepttl=True)

    response = api(callback_event("x", query, json_wanted=True), lambda_context)

    assert response["statusCode"] == 400
    body = response_json(response)
    assert body["type"].endswith("/token-exchange-failed")
    assert "authorization code was invalid" in body["detail"]
    assert account_items(oauth_container) == []


def test_a_platform_error_sends_the_browser_back_with_an_error_code(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app, "meta")
    sandbox.codes.clear()  # the platform no longer knows the code

    response = api(callback_event("meta", query), lambda_context)

    assert response["statusCode"] == 302
    assert header(response, "location") == (
        "https://app.herald.test/connect?error=token_exchange_failed&platform=meta"
    )
    assert account_items(oauth_container) == []


def test_a_platform_outage_at_the_token_endpoint_is_platform_unavailable(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app, "linkedin")
    oauth_container.__dict__["http"] = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(503, text="upstream down"))
    )

    response = api(callback_event("linkedin", query, json_wanted=True), lambda_context)

    assert response["statusCode"] == 502
    assert response_json(response)["type"].endswith("/platform-unavailable")
    assert account_items(oauth_container) == []


def test_a_declined_consent_redirects_with_access_denied(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    oauth_container: Container,
) -> None:
    state = state_of(start(api, lambda_context, business, "linkedin")["authorization_url"])
    query = {"state": state, "error": "user_cancelled_authorize"}

    response = api(callback_event("linkedin", query), lambda_context)

    assert header(response, "location") == (
        "https://app.herald.test/connect?error=access_denied&platform=linkedin"
    )
    assert account_items(oauth_container) == []


def test_two_callbacks_racing_with_one_state_exactly_one_wins(
    oauth_settings: Settings,
    aws: Any,
    redis_sync: redis.Redis,
    sandbox_app: Any,
    sandbox: SandboxState,
    business: dict[str, Any],
    oauth_container: Container,
) -> None:
    started = aio.run(service.authorize(oauth_container.oauth_ports, business["business_id"], "x"))
    query = follow_platform(sandbox_app, started.authorization_url)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def one_lambda() -> None:
        # Each thread is its own "Lambda": its own container, Redis connection and event loop.
        container = Container(oauth_settings, boto_session=aws, http=sandbox_client(sandbox_app))

        async def run() -> None:
            barrier.wait()
            try:
                await service.complete(
                    container.oauth_ports, "x", state=query["state"], code=query["code"]
                )
                outcomes.append("won")
            except InvalidState:
                outcomes.append("invalid_state")
            finally:
                await container.aclose()

        asyncio.run(run())

    threads = [threading.Thread(target=one_lambda) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["invalid_state", "won"]
    assert sandbox.calls["x.token"] == 1
    assert len(account_items(oauth_container)) == 1


def _dead_redis(container: Container) -> None:
    aio.run(container.__dict__.pop("redis").aclose()) if "redis" in container.__dict__ else None
    dead = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    container.__dict__["redis"] = dead
    container.__dict__.pop("oauth_states", None)
    container.__dict__.pop("oauth_confirmations", None)


def test_authorize_is_a_503_naming_redis_when_redis_is_down(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    oauth_container: Container,
) -> None:
    _dead_redis(oauth_container)
    response = api(
        http_event("GET", "/api/v1/oauth/x/authorize", headers=bearer(business)), lambda_context
    )
    body = response_json(response)
    assert response["statusCode"] == 503
    assert body["component"] == "redis"
    assert "Redis is unreachable" in body["detail"]


def test_the_callback_is_a_503_when_redis_is_down_and_stores_nothing(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    query = _connect_query(api, lambda_context, business, sandbox_app)
    _dead_redis(oauth_container)

    response = api(callback_event("x", query), lambda_context)

    assert response["statusCode"] == 503
    assert response_json(response)["component"] == "redis"
    assert account_items(oauth_container) == []


def test_a_confirm_is_a_503_when_redis_is_down_and_the_confirmation_outlives_it(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    confirmation = _held(api, lambda_context, business, sandbox_app)
    live = oauth_container.__dict__["redis"]
    _dead_redis(oauth_container)

    response = api(confirm_event(business, "x", confirmation), lambda_context)

    assert response["statusCode"] == 503
    assert "the connection cannot be confirmed" in response_json(response)["detail"]
    assert account_items(oauth_container) == []
    # Redis back: the held accounts are still there to confirm.
    oauth_container.__dict__["redis"] = live
    oauth_container.__dict__.pop("oauth_confirmations", None)
    assert api(confirm_event(business, "x", confirmation), lambda_context)["statusCode"] == 200


def test_a_callback_whose_accounts_cannot_be_held_is_a_503_and_stores_nothing(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    # Redis answers the state's check, then goes away before the accounts are held.
    query = _connect_query(api, lambda_context, business, sandbox_app)
    dead = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    oauth_container.__dict__["oauth_confirmations"] = ConfirmationStore(dead, 600)

    response = api(callback_event("x", query), lambda_context)

    assert response["statusCode"] == 503
    assert "the connected accounts cannot be held" in response_json(response)["detail"]
    assert account_items(oauth_container) == []


def test_the_state_store_never_falls_back_to_memory(oauth_container: Container) -> None:
    _dead_redis(oauth_container)
    with pytest.raises(DependencyUnavailable):
        aio.run(service.authorize(oauth_container.oauth_ports, "biz_1", "linkedin"))


def test_authorize_callback_and_confirm_make_one_two_and_one_redis_round_trips(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    commands: list[str] = []
    client = oauth_container.redis
    original: Callable[..., Awaitable[Any]] = client.execute_command

    async def counting(*args: Any, **kwargs: Any) -> Any:
        commands.append(str(args[0]))
        return await original(*args, **kwargs)

    # The consume script is sent once per Redis, then called by its digest.
    aio.run(cast(Coroutine[Any, Any, str], client.script_load(consume_script)))
    client.execute_command = counting  # type: ignore[method-assign]
    started = start(api, lambda_context, business, "x")
    assert commands == ["SET"]

    commands.clear()
    query = follow_platform(sandbox_app, started["authorization_url"])
    held = api(callback_event("x", query), lambda_context)
    assert commands == ["EVALSHA", "SET"]  # spend the state, hold the accounts

    commands.clear()
    api(confirm_event(business, "x", confirmation_of(held)), lambda_context)
    assert commands == ["GETDEL"]
