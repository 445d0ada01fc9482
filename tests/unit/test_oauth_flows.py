"""Each platform's flow sends exactly the requests its documentation describes (MockTransport,
no sockets)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from herald.clock import FrozenClock
from herald.oauth.flows import ClientCredentials, platform_error
from herald.oauth.linkedin import LinkedInFlow
from herald.oauth.meta import MetaFlow
from herald.oauth.pkce import new_verifier, s256_challenge
from herald.oauth.x import XFlow
from herald.platforms.base import ErrorKind, PlatformError
from herald.settings import Settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REDIRECT = "https://api.herald.test/api/v1/oauth/{}/callback"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A fake platform: answers from `routes` by (method, path) and keeps every request."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes[(request.method, request.url.path)]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def form(self, i: int) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[i].content.decode()).items()}

    def query(self, i: int) -> dict[str, str]:
        return dict(self.requests[i].url.params)


def settings() -> Settings:
    return Settings(HERALD_ENV="test", meta_graph_version="v24.0")


def http(recorder: Recorder) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(recorder))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


CLIENT = ClientCredentials("cid", "csecret")


# --- PKCE ------------------------------------------------------------------------------------
def test_the_s256_challenge_is_the_unpadded_base64url_sha256_of_the_verifier() -> None:
    verifier = new_verifier()
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = s256_challenge(verifier)
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert len(challenge) == 43
    assert "=" not in challenge


def test_a_verifier_is_43_to_128_unreserved_characters() -> None:
    verifier = new_verifier()
    assert 43 <= len(verifier) <= 128
    assert all(c.isalnum() or c in "-._~" for c in verifier)


# --- LinkedIn --------------------------------------------------------------------------------
def test_linkedin_authorization_url() -> None:
    flow = LinkedInFlow(http(Recorder({})), settings(), CLIENT, FrozenClock(NOW))
    url = flow.authorization_url(
        state="st", redirect_uri=REDIRECT.format("linkedin"), code_challenge=None
    )
    assert url.startswith("https://www.linkedin.com/oauth/v2/authorization?")
    assert query_of(url) == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": REDIRECT.format("linkedin"),
        "state": "st",
        "scope": "openid profile w_member_social",
    }


def test_linkedin_adds_organization_scope_when_enabled() -> None:
    s = Settings(HERALD_ENV="test", linkedin_organizations_enabled=True)
    flow = LinkedInFlow(http(Recorder({})), s, CLIENT, FrozenClock(NOW))
    assert "w_organization_social" in flow.scopes


async def test_linkedin_exchange_posts_the_code_then_reads_userinfo() -> None:
    recorder = Recorder(
        {
            ("POST", "/oauth/v2/accessToken"): {
                "access_token": "AT",
                "expires_in": 5184000,
                "scope": "openid,profile,w_member_social",
            },
            ("GET", "/v2/userinfo"): {"sub": "abc123", "name": "Ada Lovelace"},
        }
    )
    flow = LinkedInFlow(http(recorder), settings(), CLIENT, FrozenClock(NOW))

    [identity] = await flow.exchange(code="CODE", redirect_uri="https://r", code_verifier=None)

    token_request, me_request = recorder.requests
    assert str(token_request.url) == "https://www.linkedin.com/oauth/v2/accessToken"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert recorder.form(0) == {
        "grant_type": "authorization_code",
        "code": "CODE",
        "redirect_uri": "https://r",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert str(me_request.url) == "https://api.linkedin.com/v2/userinfo"
    assert me_request.headers["authorization"] == "Bearer AT"
    assert identity.external_id == "urn:li:person:abc123"
    assert identity.details["author_urn"] == "urn:li:person:abc123"
    assert identity.tokens.expires_at == NOW + timedelta(days=60)
    assert identity.tokens.refresh_token is None
    assert identity.tokens.scopes == ("openid", "profile", "w_member_social")


async def test_linkedin_refresh_and_revoke() -> None:
    recorder = Recorder(
        {
            ("POST", "/oauth/v2/accessToken"): {
                "access_token": "AT2",
                "expires_in": 5184000,
                "refresh_token": "RT",
                "refresh_token_expires_in": 1000,
            },
            ("POST", "/oauth/v2/revoke"): httpx.Response(200),
        }
    )
    flow = LinkedInFlow(http(recorder), settings(), CLIENT, FrozenClock(NOW))
    tokens = await flow.refresh("RT")
    assert recorder.form(0) == {
        "grant_type": "refresh_token",
        "refresh_token": "RT",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert tokens.refresh_expires_at == NOW + timedelta(seconds=1000)
    assert await flow.revoke("AT2", "RT", {}) is True
    assert recorder.form(1) == {"token": "AT2", "client_id": "cid", "client_secret": "csecret"}


# --- X ---------------------------------------------------------------------------------------
def test_x_authorization_url_carries_the_s256_challenge() -> None:
    flow = XFlow(http(Recorder({})), settings(), CLIENT, FrozenClock(NOW))
    url = flow.authorization_url(state="st", redirect_uri=REDIRECT.format("x"), code_challenge="CH")
    assert url.startswith("https://x.com/i/oauth2/authorize?")
    assert query_of(url) == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": REDIRECT.format("x"),
        "scope": "tweet.read tweet.write users.read offline.access media.write",
        "state": "st",
        "code_challenge": "CH",
        "code_challenge_method": "S256",
    }


async def test_x_exchange_uses_basic_auth_and_the_verifier() -> None:
    recorder = Recorder(
        {
            ("POST", "/2/oauth2/token"): {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": "AT",
                "scope": "tweet.read users.read offline.access",
                "refresh_token": "RT",
            },
            ("GET", "/2/users/me"): {"data": {"id": "42", "name": "Herald", "username": "herald"}},
        }
    )
    flow = XFlow(http(recorder), settings(), CLIENT, FrozenClock(NOW))

    [identity] = await flow.exchange(code="CODE", redirect_uri="https://r", code_verifier="V")

    token_request = recorder.requests[0]
    assert str(token_request.url) == "https://api.x.com/2/oauth2/token"
    assert (
        token_request.headers["authorization"]
        == "Basic " + base64.b64encode(b"cid:csecret").decode()
    )
    assert recorder.form(0) == {
        "grant_type": "authorization_code",
        "code": "CODE",
        "redirect_uri": "https://r",
        "code_verifier": "V",
    }
    assert str(recorder.requests[1].url) == "https://api.x.com/2/users/me"
    assert identity.external_id == "42"
    assert identity.details == {"user_id": "42", "username": "herald"}
    assert identity.tokens.expires_at == NOW + timedelta(hours=2)
    assert identity.tokens.refresh_token == "RT"


async def test_x_revoke_ends_the_refresh_token_then_the_access_token() -> None:
    recorder = Recorder({("POST", "/2/oauth2/revoke"): {"revoked": True}})
    flow = XFlow(http(recorder), settings(), CLIENT, FrozenClock(NOW))
    await flow.revoke("AT", "RT", {})
    assert [recorder.form(i) for i in range(2)] == [
        {"token": "RT", "token_type_hint": "refresh_token"},
        {"token": "AT", "token_type_hint": "access_token"},
    ]


async def test_a_refused_x_refresh_is_auth_revoked() -> None:
    recorder = Recorder(
        {
            ("POST", "/2/oauth2/token"): httpx.Response(
                400,
                json={
                    "error": "invalid_request",
                    "error_description": "Value passed for the token was invalid.",
                },
            ),
        }
    )
    flow = XFlow(http(recorder), settings(), CLIENT, FrozenClock(NOW))
    with pytest.raises(PlatformError) as raised:
        await flow.refresh("RT")
    assert raised.value.kind is ErrorKind.AUTH_REVOKED
    assert raised.value.platform_code == "invalid_request"


# --- Meta ------------------------------------------------------------------------------------
def _proof(token: str) -> str:
    return hmac.new(b"csecret", token.encode(), hashlib.sha256).hexdigest()


async def test_meta_exchanges_for_a_long_lived_token_and_lists_pages_with_instagram() -> None:
    calls: list[dict[str, str]] = []

    def token(request: httpx.Request) -> httpx.Response:
        calls.append(dict(request.url.params))
        value = "LONG" if request.url.params.get("grant_type") == "fb_exchange_token" else "SHORT"
        return httpx.Response(
            200, json={"access_token": value, "token_type": "bearer", "expires_in": 5183944}
        )

    recorder = Recorder(
        {
            ("GET", "/v24.0/me"): {"id": "u1", "name": "Owner"},
            ("GET", "/v24.0/me/accounts"): {
                "data": [
                    {
                        "id": "p1",
                        "name": "Bakery",
                        "access_token": "PT1",
                        "instagram_business_account": {"id": "ig1", "username": "bakery"},
                    },
                    {"id": "p2", "name": "Outlet", "access_token": "PT2"},
                ]
            },
        }
    )
    recorder.routes[("GET", "/v24.0/oauth/access_token")] = None

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v24.0/oauth/access_token":
            return token(request)
        return recorder(request)

    flow = MetaFlow(
        httpx.AsyncClient(transport=httpx.MockTransport(route)),
        settings(),
        CLIENT,
        FrozenClock(NOW),
    )
    identities = await flow.exchange(code="CODE", redirect_uri="https://r", code_verifier=None)

    assert calls == [
        {
            "redirect_uri": "https://r",
            "code": "CODE",
            "client_id": "cid",
            "client_secret": "csecret",
        },
        {
            "grant_type": "fb_exchange_token",
            "fb_exchange_token": "SHORT",
            "client_id": "cid",
            "client_secret": "csecret",
        },
    ]
    me, accounts = recorder.requests
    assert me.headers["authorization"] == "Bearer LONG"
    assert me.url.params["appsecret_proof"] == _proof("LONG")
    assert "instagram_business_account" in accounts.url.params["fields"]
    assert [(i.platform, i.external_id, i.tokens.access_token) for i in identities] == [
        ("facebook", "p1", "PT1"),
        ("instagram", "ig1", "LONG"),  # IG publishing documents a User token
        ("facebook", "p2", "PT2"),
    ]
    assert identities[1].display_name == "@bakery"
    assert [i.tokens.expires_at for i in identities] == [
        None,
        NOW + timedelta(seconds=5183944),  # the long-lived User token's ~60 days
        None,
    ]
    assert identities[0].details == {"page_id": "p1", "user_id": "u1"}


async def test_meta_sends_the_user_token_to_no_next_page_off_the_graph_api() -> None:
    sent_to: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        sent_to.append(request.url.host)
        if request.url.path == "/v24.0/oauth/access_token":
            return httpx.Response(200, json={"access_token": "LONG", "expires_in": 5183944})
        if request.url.path == "/v24.0/me":
            return httpx.Response(200, json={"id": "u1", "name": "Owner"})
        page = {"id": "p1", "name": "Bakery", "access_token": "PT1"}
        return httpx.Response(
            200, json={"data": [page], "paging": {"next": "https://collector.example/next"}}
        )

    flow = MetaFlow(
        httpx.AsyncClient(transport=httpx.MockTransport(route)),
        settings(),
        CLIENT,
        FrozenClock(NOW),
    )
    with pytest.raises(PlatformError, match="another host"):
        await flow.exchange(code="CODE", redirect_uri="https://r", code_verifier=None)

    assert "collector.example" not in sent_to


def test_meta_dialog_url_uses_the_graph_version_and_comma_scopes() -> None:
    flow = MetaFlow(http(Recorder({})), settings(), CLIENT, FrozenClock(NOW))
    url = flow.authorization_url(state="st", redirect_uri="https://r", code_challenge=None)
    assert url.startswith("https://www.facebook.com/v24.0/dialog/oauth?")
    assert "pages_manage_posts" in query_of(url)["scope"].split(",")


async def test_meta_revoke_deletes_the_users_permissions_with_the_app_token() -> None:
    recorder = Recorder({("DELETE", "/v24.0/u1/permissions"): {"success": True}})
    flow = MetaFlow(http(recorder), settings(), CLIENT, FrozenClock(NOW))
    assert await flow.revoke("PT", None, {"user_id": "u1"}) is True
    assert recorder.requests[0].headers["authorization"] == "Bearer cid|csecret"


# --- error classification --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "refreshing", "kind"),
    [
        (400, {"error": "invalid_grant"}, False, ErrorKind.AUTH_REVOKED),
        (400, {"error": "invalid_request"}, True, ErrorKind.AUTH_REVOKED),
        (400, {"error": "invalid_request"}, False, ErrorKind.PLATFORM_ERROR),
        (401, {"error": "invalid_client"}, True, ErrorKind.PLATFORM_ERROR),
        (400, {"error": {"type": "OAuthException", "code": 190}}, False, ErrorKind.AUTH_REVOKED),
        (400, {"error": {"type": "OAuthException", "code": 4}}, False, ErrorKind.RATE_LIMITED),
        (429, {}, False, ErrorKind.RATE_LIMITED),
        (503, {}, False, ErrorKind.TRANSIENT),
    ],
)
def test_platform_errors_are_classified_by_status_and_code(
    status: int, body: dict[str, Any], refreshing: bool, kind: ErrorKind
) -> None:
    response = httpx.Response(status, content=json.dumps(body).encode())
    assert platform_error("x", response, refreshing=refreshing).kind is kind


async def test_a_timeout_is_ambiguous_and_a_refused_connection_transient() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler, kind in ((timeout, ErrorKind.AMBIGUOUS), (refused, ErrorKind.TRANSIENT)):
        flow = XFlow(
            httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            settings(),
            CLIENT,
            FrozenClock(NOW),
        )
        with pytest.raises(PlatformError) as raised:
            await flow.refresh("RT")
        assert raised.value.kind is kind
