"""Connecting accounts end to end: the API handler, real Redis, moto, and the platform sandbox
over HTTP (in process, through httpx's ASGI transport)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.accounts import AccountStatus
from herald.container import Container
from herald.local.sandbox.state import SandboxState
from tests.fakes.lambda_events import header, http_event, response_json
from tests.fakes.oauth import (
    account_items,
    bearer,
    callback_event,
    confirm_event,
    confirmation_of,
    connect_through_api,
    follow_platform,
    start,
)


def test_linkedin_connects_end_to_end_with_tokens_encrypted_at_rest(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    started = start(api, lambda_context, business, "linkedin")
    assert started["state_expires_in"] == 600
    back = follow_platform(sandbox_app, started["authorization_url"])

    response = api(callback_event("linkedin", back), lambda_context)

    assert response["statusCode"] == 302
    location = header(response, "location") or ""
    assert location.startswith("https://app.herald.test/connect?confirm=")
    assert location.endswith("&platform=linkedin")
    assert account_items(oauth_container) == []  # held until the business confirms
    confirmation = confirmation_of(response)
    confirmed = api(confirm_event(business, "linkedin", confirmation), lambda_context)
    assert confirmed["statusCode"] == 200, confirmed["body"]
    items = account_items(oauth_container)
    assert len(items) == 1
    item = items[0]
    assert item["external_id"] == "urn:li:person:sandboxMember01"
    assert item["details"]["author_urn"] == "urn:li:person:sandboxMember01"
    issued = [t for t in sandbox.tokens if t.startswith("li_at_")]
    assert len(issued) == 1
    assert issued[0] not in json.dumps(items, default=str)
    assert item["access_token_enc"].startswith("gAAAAA")
    assert oauth_container.vault.decrypt(item["access_token_enc"]) == issued[0]


def test_x_connects_with_pkce_and_stores_the_refresh_token_encrypted(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    started = start(api, lambda_context, business, "x")
    assert "code_challenge_method=S256" in started["authorization_url"]
    back = follow_platform(sandbox_app, started["authorization_url"])

    response = api(callback_event("x", back, json_wanted=True), lambda_context)

    assert response["statusCode"] == 200, response["body"]
    held = response_json(response)
    assert held["connected"] == []
    assert [a["platform"] for a in held["awaiting_confirmation"]] == ["x"]
    assert held["confirmation_expires_in"] == 600
    body = response_json(api(confirm_event(business, "x", held["confirmation"]), lambda_context))
    assert [a["platform"] for a in body["connected"]] == ["x"]
    item = account_items(oauth_container)[0]
    raw = json.dumps(item, default=str)
    for token in [*sandbox.tokens, *sandbox.refresh_tokens]:
        assert token not in raw
    assert item["refresh_token_enc"].startswith("gAAAAA")
    assert item["exp_pk"].startswith("EXP#")


def test_meta_connects_each_page_and_its_instagram_account(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    connected = connect_through_api(api, lambda_context, business, sandbox_app, "meta")["connected"]

    assert sorted(a["platform"] for a in connected) == ["facebook", "facebook", "instagram"]
    accounts = oauth_container.accounts.list_for_business(business["business_id"])
    instagram = next(a for a in accounts if a.platform == "instagram")
    assert instagram.external_id == "17841400000000001"
    assert instagram.details["page_id"] == "200000000000001"
    # Instagram publishes with the person's long-lived User token (about 60 days), a Page with
    # its Page token, which does not expire.
    assert instagram.token_expires_at is not None
    assert all(a.token_expires_at is None for a in accounts if a.platform == "facebook")
    assert all(a.status is AccountStatus.CONNECTED for a in accounts)


def test_reconnecting_an_account_updates_it_instead_of_adding_another(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    ids = []
    for _ in range(2):
        body = connect_through_api(api, lambda_context, business, sandbox_app, "x")
        ids.append(body["connected"][0]["account_id"])

    assert ids[0] == ids[1]
    items = account_items(oauth_container)
    assert len(items) == 1
    assert int(items[0]["version"]) == 2


def test_authorize_redirects_when_the_client_asks_for_it(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
) -> None:
    event = http_event(
        "GET",
        "/api/v1/oauth/linkedin/authorize",
        headers=bearer(business),
        query={"redirect": "true"},
    )
    response = api(event, lambda_context)
    assert response["statusCode"] == 302
    assert (header(response, "location") or "").startswith(
        "http://sandbox.test/oauth/v2/authorization?"
    )


def test_authorize_needs_an_api_key(api: Any, lambda_context: Any) -> None:
    response = api(http_event("GET", "/api/v1/oauth/x/authorize"), lambda_context)
    assert response["statusCode"] == 401


def test_an_unknown_platform_is_a_404_problem(
    api: Any, lambda_context: Any, business: dict[str, Any]
) -> None:
    response = api(
        http_event("GET", "/api/v1/oauth/myspace/authorize", headers=bearer(business)),
        lambda_context,
    )
    assert response["statusCode"] == 404
    assert header(response, "content-type") == "application/problem+json"


def test_a_browser_asking_for_html_is_redirected_to_the_platform(
    api: Any, lambda_context: Any, business: dict[str, Any]
) -> None:
    headers = {**bearer(business), "Accept": "text/html,application/xhtml+xml"}
    response = api(http_event("GET", "/api/v1/oauth/x/authorize", headers=headers), lambda_context)
    assert response["statusCode"] == 302
    assert (header(response, "location") or "").startswith(
        "http://sandbox.test/i/oauth2/authorize?"
    )


def test_no_token_reaches_a_log_line_or_a_response(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    caplog: Any,
) -> None:
    back = follow_platform(
        sandbox_app, start(api, lambda_context, business, "x")["authorization_url"]
    )
    response = api(callback_event("x", back, json_wanted=True), lambda_context)
    confirmed = api(confirm_event(business, "x", confirmation_of(response)), lambda_context)
    listing = api(http_event("GET", "/api/v1/accounts", headers=bearer(business)), lambda_context)
    logged = "".join(repr(r.__dict__) for r in caplog.records)
    everything = logged + response["body"] + confirmed["body"] + listing["body"]
    assert "accounts connected" in logged
    for token in [*sandbox.tokens, *sandbox.refresh_tokens]:
        assert token not in everything


def test_a_platform_answer_missing_its_documented_fields_sends_the_person_back_with_an_error(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    back = follow_platform(
        sandbox_app, start(api, lambda_context, business, "linkedin")["authorization_url"]
    )

    class Forgetful:
        uses_pkce = False

        async def exchange(self, **_: Any) -> Any:
            userinfo: dict[str, str] = {}
            return userinfo["sub"]  # userinfo answered 200 without `sub`

    async def forgetful(container: Any, provider: str) -> Forgetful:
        return Forgetful()

    monkeypatch.setattr("herald.oauth.service.flow_for", forgetful)

    response = api(callback_event("linkedin", back), lambda_context)

    assert response["statusCode"] == 302
    assert (header(response, "location") or "").endswith(
        "?error=token_exchange_failed&platform=linkedin"
    )
    assert account_items(oauth_container) == []
