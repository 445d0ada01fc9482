"""The Threads flow sends exactly the requests Threads documents (MockTransport, no sockets):
the Authorization Window, the code exchange, the long-lived token, its refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from herald.clock import FrozenClock
from herald.oauth.flows import ClientCredentials
from herald.oauth.threads import ThreadsFlow
from herald.platforms.base import ErrorKind, PlatformError
from herald.settings import Settings

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REDIRECT = "https://api.herald.test/api/v1/oauth/threads/callback"
CLIENT = ClientCredentials("990602627938098", "th-secret")
LONG_SECONDS = 5_183_944  # the documented example's expires_in


class FakeThreadsAuth:
    """Answers by (method, path) and keeps every request."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes[(request.method, request.url.path)]
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)


def flow(fake: FakeThreadsAuth) -> ThreadsFlow:
    settings = Settings(HERALD_ENV="test")
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return ThreadsFlow(http, settings, CLIENT, FrozenClock(NOW))


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


HAPPY = {
    ("POST", "/oauth/access_token"): {"access_token": "THQshort", "user_id": 7001},
    ("GET", "/access_token"): {
        "access_token": "THQlong",
        "token_type": "bearer",
        "expires_in": LONG_SECONDS,
    },
    ("GET", "/v1.0/me"): {"id": "7001", "username": "bakery", "name": "The Bakery"},
}


def test_the_authorization_window_asks_for_the_threads_scopes_without_pkce() -> None:
    url = flow(FakeThreadsAuth({})).authorization_url(
        state="st4te", redirect_uri=REDIRECT, code_challenge=None
    )

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "threads.com", "/oauth/authorize")
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": "990602627938098",
        "redirect_uri": REDIRECT,
        "scope": (
            "threads_basic,threads_content_publish,threads_manage_replies,threads_manage_insights"
        ),
        "response_type": "code",
        "state": "st4te",
    }


async def test_the_code_becomes_a_long_lived_token_and_the_users_profile() -> None:
    fake = FakeThreadsAuth(HAPPY)

    [identity] = await flow(fake).exchange(code="AQBx", redirect_uri=REDIRECT, code_verifier=None)

    exchange, long, me = fake.requests
    assert (exchange.url.host, exchange.url.path) == ("graph.threads.net", "/oauth/access_token")
    assert form(exchange) == {
        "client_id": "990602627938098",
        "client_secret": "th-secret",
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code": "AQBx",
    }
    assert dict(long.url.params) == {
        "grant_type": "th_exchange_token",
        "client_secret": "th-secret",
        "access_token": "THQshort",
    }
    assert me.headers["authorization"] == "Bearer THQlong"
    assert me.url.params["fields"] == "id,username,name"
    assert (identity.platform, identity.external_id, identity.display_name) == (
        "threads",
        "7001",
        "@bakery",
    )
    assert identity.details == {"user_id": "7001", "username": "bakery"}
    tokens = identity.tokens
    assert tokens.access_token == "THQlong"
    # The long-lived token is its own refresh token, usable while it lives.
    assert tokens.refresh_token == "THQlong"
    assert tokens.expires_at == NOW + timedelta(seconds=LONG_SECONDS)
    assert tokens.refresh_expires_at == tokens.expires_at


async def test_a_token_for_another_user_than_the_one_who_authorized_is_refused() -> None:
    routes = {**HAPPY, ("GET", "/v1.0/me"): {"id": "9999", "username": "someone"}}

    with pytest.raises(ValueError, match="not the one who authorized"):
        await flow(FakeThreadsAuth(routes)).exchange(
            code="AQBx", redirect_uri=REDIRECT, code_verifier=None
        )


async def test_a_refresh_presents_the_long_lived_token_and_keeps_the_new_one_as_both() -> None:
    fake = FakeThreadsAuth(
        {
            ("GET", "/refresh_access_token"): {
                "access_token": "THQnew",
                "token_type": "bearer",
                "expires_in": LONG_SECONDS,
            }
        }
    )

    tokens = await flow(fake).refresh("THQlong")

    assert dict(fake.requests[0].url.params) == {
        "grant_type": "th_refresh_token",
        "access_token": "THQlong",
    }
    assert (tokens.access_token, tokens.refresh_token) == ("THQnew", "THQnew")
    assert tokens.expires_at == NOW + timedelta(seconds=LONG_SECONDS)


async def test_a_refused_refresh_of_an_expired_token_needs_a_person() -> None:
    refused = httpx.Response(
        400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
            }
        },
    )
    fake = FakeThreadsAuth({("GET", "/refresh_access_token"): refused})

    with pytest.raises(PlatformError) as caught:
        await flow(fake).refresh("THQold")

    assert caught.value.kind is ErrorKind.AUTH_REVOKED
    assert caught.value.platform == "threads"


async def test_a_refused_code_is_a_platform_error_not_a_crash() -> None:
    refused = httpx.Response(
        400,
        json={"error": {"message": "Invalid verification code", "type": "OAuthException",
                        "code": 100}},
    )  # fmt: skip
    fake = FakeThreadsAuth({("POST", "/oauth/access_token"): refused})

    with pytest.raises(PlatformError) as caught:
        await flow(fake).exchange(code="used", redirect_uri=REDIRECT, code_verifier=None)

    assert caught.value.platform_code == "100"


async def test_threads_offers_no_revocation_so_nothing_is_sent() -> None:
    fake = FakeThreadsAuth({})

    assert await flow(fake).revoke("THQlong", "THQlong", {"user_id": "7001"}) is False
    assert fake.requests == []
