"""`GET /api/v1/accounts` and `DELETE /api/v1/accounts/{id}`."""

from __future__ import annotations

from typing import Any

from herald.container import Container
from herald.local.sandbox.state import SandboxState
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.oauth import (
    bearer,
    connect,
)


def test_the_list_shows_each_account_and_never_a_token(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    connect(oauth_container, sandbox_app, business["business_id"], "x")
    connect(oauth_container, sandbox_app, business["business_id"], "meta")

    response = api(http_event("GET", "/api/v1/accounts", headers=bearer(business)), lambda_context)

    assert response["statusCode"] == 200
    accounts = response_json(response)["accounts"]
    assert sorted(a["platform"] for a in accounts) == ["facebook", "facebook", "instagram", "x"]
    x = next(a for a in accounts if a["platform"] == "x")
    assert x["status"] == "connected"
    assert "offline.access" in x["scopes"]
    assert x["token_expires_at"].endswith("Z")
    assert "access_token_enc" not in x
    assert "refresh_token_enc" not in x
    for token in [*sandbox.tokens, *sandbox.refresh_tokens]:
        assert token not in response["body"]
    assert "gAAAAA" not in response["body"]


def test_another_business_sees_none_of_them(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    other_business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    listing = api(
        http_event("GET", "/api/v1/accounts", headers=bearer(other_business)), lambda_context
    )
    assert response_json(listing)["accounts"] == []
    deleting = api(
        http_event(
            "DELETE", f"/api/v1/accounts/{account.account_id}", headers=bearer(other_business)
        ),
        lambda_context,
    )
    assert deleting["statusCode"] == 404
    assert len(oauth_container.accounts.list_for_business(business["business_id"])) == 1


def test_deleting_an_x_account_revokes_its_tokens_at_x_first(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]

    response = api(
        http_event("DELETE", f"/api/v1/accounts/{account.account_id}", headers=bearer(business)),
        lambda_context,
    )

    assert response["statusCode"] == 200
    assert response_json(response) == {
        "account_id": account.account_id,
        "deleted": True,
        "revoked_at_platform": True,
    }
    assert sandbox.calls["x.revoke"] == 2  # the refresh token, then the access token
    assert not sandbox.tokens
    assert not sandbox.refresh_tokens
    assert oauth_container.accounts.list_for_business(business["business_id"]) == []


def test_deleting_one_meta_account_keeps_the_grant_its_siblings_use(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    accounts = connect(oauth_container, sandbox_app, business["business_id"], "meta")
    instagram = next(a for a in accounts if a.platform == "instagram")

    response = api(
        http_event("DELETE", f"/api/v1/accounts/{instagram.account_id}", headers=bearer(business)),
        lambda_context,
    )

    assert response_json(response)["revoked_at_platform"] is False
    assert sandbox.calls["meta.revoke"] == 0
    remaining = oauth_container.accounts.list_for_business(business["business_id"])
    assert sorted(a.platform for a in remaining) == ["facebook", "facebook"]


def test_deleting_the_last_meta_account_revokes_the_login(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    sandbox: SandboxState,
    oauth_container: Container,
) -> None:
    for account in connect(oauth_container, sandbox_app, business["business_id"], "meta"):
        api(
            http_event(
                "DELETE", f"/api/v1/accounts/{account.account_id}", headers=bearer(business)
            ),
            lambda_context,
        )
    assert sandbox.calls["meta.revoke"] == 1
    assert not [t for t in sandbox.tokens.values() if t.platform == "meta"]


def test_an_account_is_deleted_even_when_the_platform_cannot_be_reached(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    import httpx

    account = connect(oauth_container, sandbox_app, business["business_id"], "linkedin")[0]
    oauth_container.__dict__["http"] = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(503))
    )
    response = api(
        http_event("DELETE", f"/api/v1/accounts/{account.account_id}", headers=bearer(business)),
        lambda_context,
    )
    assert response_json(response)["revoked_at_platform"] is False
    assert oauth_container.accounts.list_for_business(business["business_id"]) == []
