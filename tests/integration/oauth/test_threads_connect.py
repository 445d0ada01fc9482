"""Connecting a Threads account end to end (the API handler, real Redis, moto, the sandbox's
Threads over in-process HTTP), and keeping its long-lived token alive."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from herald import aio
from herald.accounts import AccountStatus
from herald.clock import FrozenClock, parse_iso
from herald.container import Container
from herald.local.sandbox.state import SandboxState
from herald.platforms.base import ErrorKind, PlatformError
from herald.tokens import credentials_for, refresh_sweep
from tests.fakes.lambda_events import header, http_event, response_json
from tests.fakes.oauth import (
    account_items,
    bearer,
    callback_event,
    confirm_event,
    connect,
    follow_platform,
    start,
    until_expiry,
)

THREADS_USER = "25000000000000001"
DAY = 86_400.0


def test_threads_connects_through_its_window_and_keeps_a_long_lived_token_encrypted(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
    oauth_clock: FrozenClock,
) -> None:
    started = start(api, lambda_context, business, "threads")
    assert "/threads/oauth/authorize?" in started["authorization_url"]
    assert "code_challenge" not in started["authorization_url"]
    back = follow_platform(sandbox_app, started["authorization_url"])

    held = response_json(api(callback_event("threads", back, json_wanted=True), lambda_context))
    assert [a["platform"] for a in held["awaiting_confirmation"]] == ["threads"]
    assert account_items(oauth_container) == []  # held until the business confirms
    confirmed = api(confirm_event(business, "threads", held["confirmation"]), lambda_context)

    assert confirmed["statusCode"] == 200, confirmed["body"]
    [account] = oauth_container.accounts.list_for_business(business["business_id"])
    assert (account.platform, account.external_id, account.display_name) == (
        "threads",
        THREADS_USER,
        "@sandbox.bakery",
    )
    assert account.status is AccountStatus.CONNECTED
    assert account.scopes == (
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
        "threads_manage_insights",
    )
    assert account.token_expires_at is not None
    lasts = parse_iso(account.token_expires_at) - oauth_clock.now()
    assert lasts == timedelta(days=60)
    raw = json.dumps(account_items(oauth_container), default=str)
    long_lived = [t for t in sandbox.tokens if t.startswith("THQL")]
    assert len(long_lived) == 1
    assert long_lived[0] not in raw
    assert oauth_container.vault.decrypt(account.access_token_enc) == long_lived[0]
    assert account.refresh_token_enc is not None
    assert oauth_container.vault.decrypt(account.refresh_token_enc) == long_lived[0]
    assert sandbox.calls["threads.exchange"] == 1


def test_the_hourly_sweep_refreshes_a_threads_token_in_its_last_day(
    oauth_container: Container,
    sandbox: SandboxState,
    sandbox_app: Any,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "threads")[0]
    assert aio.run(refresh_sweep(oauth_container.token_ports)) == {"checked": 0}  # 60 days left

    # 59 and a half days later at Threads and here alike.
    started = sandbox.now()
    sandbox.clock = lambda: started + 59.5 * DAY
    until_expiry(oauth_clock, account, DAY / 2)
    result = aio.run(refresh_sweep(oauth_container.token_ports))

    assert result == {"checked": 1, "refreshed": 1}
    assert sandbox.calls["threads.refresh"] == 1
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.version == account.version + 1
    assert stored.token_expires_at is not None
    assert parse_iso(stored.token_expires_at) - oauth_clock.now() == timedelta(days=60)
    new_token = oauth_container.vault.decrypt(stored.access_token_enc)
    assert new_token != oauth_container.vault.decrypt(account.access_token_enc)
    assert stored.refresh_token_enc is not None
    assert oauth_container.vault.decrypt(stored.refresh_token_enc) == new_token


def test_a_threads_token_left_to_expire_needs_a_person(
    oauth_container: Container,
    sandbox: SandboxState,
    sandbox_app: Any,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "threads")[0]
    started = sandbox.now()
    sandbox.clock = lambda: started + 61 * DAY  # Threads' copy ended: it refreshes no more
    until_expiry(oauth_clock, account, 60)

    with pytest.raises(PlatformError) as raised:
        aio.run(
            credentials_for(
                oauth_container.token_ports, business["business_id"], account.account_id
            )
        )

    assert raised.value.kind is ErrorKind.AUTH_REVOKED
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.status is AccountStatus.NEEDS_REAUTH
    assert "190" in (stored.status_reason or "")


def test_a_thread_is_published_through_the_api_and_the_limit_shows_what_is_left(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "threads")[0]
    body = {"account_ids": [account.account_id], "thread": ["Our story", "The oven"]}

    response = api(
        http_event("POST", "/api/v1/publish/threads", headers=bearer(business), body=body),
        lambda_context,
    )

    assert response["statusCode"] == 200, response["body"]
    [target] = response_json(response)["targets"]
    assert target["status"] == "published"
    assert len(target["part_ids"]) == 2
    assert target["url"].startswith("https://www.threads.com/@sandbox.bakery/post/")
    out = {p["id"]: p for p in sandbox.posts.values() if p["platform"] == "threads"}
    assert out[target["part_ids"][1]]["reply_to"] == target["part_ids"][0]

    limit = api(
        http_event(
            "GET",
            f"/api/v1/accounts/{account.account_id}/publishing-limit",
            headers=bearer(business),
        ),
        lambda_context,
    )

    assert limit["statusCode"] == 200, limit["body"]
    assert response_json(limit) == {
        "account_id": account.account_id,
        "platform": "threads",
        "posts": {"used": 1, "total": 250, "left": 249, "window_seconds": 86400,
                  "frees_at": None},
        "replies": {"used": 1, "total": 1000, "left": 999, "window_seconds": 86400,
                    "frees_at": None},
    }  # fmt: skip


def test_a_post_over_threads_limits_is_a_422_naming_each_limit_and_nothing_is_stored(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "threads")[0]
    body = {
        "account_ids": [account.account_id],
        "text": "a" * 501,
        "media": [{"url": f"https://cdn.test/{i}.jpg"} for i in range(20)],
        "image_url": "https://cdn.test/x.jpg",
    }

    response = api(
        http_event("POST", "/api/v1/publish/multi", headers=bearer(business), body=body),
        lambda_context,
    )

    assert response["statusCode"] == 422
    problem = response_json(response)
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert "Threads allows 500" in messages[f"{account.account_id}.text"]
    assert "at most 20" in messages[f"{account.account_id}.media"]
    assert not [p for p in sandbox.posts.values() if p["platform"] == "threads"]


def test_the_publishing_limit_is_read_for_threads_accounts_only(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]

    response = api(
        http_event(
            "GET",
            f"/api/v1/accounts/{account.account_id}/publishing-limit",
            headers=bearer(business),
        ),
        lambda_context,
    )

    assert response["statusCode"] == 404
    assert header(response, "content-type") == "application/problem+json"
