"""The platform sandbox checks what LinkedIn, X and Meta check, with their error shapes."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from herald.local.sandbox.app import create_app
from herald.local.sandbox.state import SandboxState
from herald.oauth.pkce import new_verifier, s256_challenge

REDIRECT = "https://api.herald.test/api/v1/oauth/x/callback"
BASE = "http://sandbox.test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox_clock() -> Clock:
    return Clock()


@pytest.fixture
def state(sandbox_clock: Clock) -> SandboxState:
    sandbox = SandboxState(clock=sandbox_clock)
    sandbox.register_client("x", "xid", "xsecret", {REDIRECT})
    sandbox.register_client("linkedin", "liid", "lisecret", {REDIRECT})
    sandbox.register_client("meta", "123", "metasecret", {REDIRECT})
    return sandbox


@pytest.fixture
async def client(state: SandboxState) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(state=state)), base_url=BASE
    ) as c:
        yield c


def _basic(client_id: str = "xid", secret: str = "xsecret") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _x_code(client: httpx.AsyncClient, verifier: str, redirect: str = REDIRECT) -> str:
    response = await client.get(
        "/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "xid",
            "redirect_uri": redirect,
            "scope": "tweet.read users.read offline.access",
            "state": "s1",
            "code_challenge": s256_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


async def _x_exchange(
    client: httpx.AsyncClient, code: str, verifier: str, **over: Any
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    headers = over.pop("headers", _basic())
    form.update(over)
    return await client.post("/2/oauth2/token", data=form, headers=headers)


async def test_authorize_refuses_a_redirect_uri_that_is_not_registered(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "xid",
            "redirect_uri": REDIRECT + "/evil",
            "state": "s",
            "code_challenge": "c",
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_x_authorize_requires_pkce(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "xid",
            "redirect_uri": REDIRECT,
            "state": "s",
        },
    )
    assert response.status_code == 400


async def test_an_x_code_is_exchanged_once(client: httpx.AsyncClient) -> None:
    verifier = new_verifier()
    code = await _x_code(client, verifier)
    first = await _x_exchange(client, code, verifier)
    second = await _x_exchange(client, code, verifier)
    assert first.status_code == 200
    assert set(first.json()) >= {
        "access_token",
        "refresh_token",
        "expires_in",
        "scope",
        "token_type",
    }
    assert second.status_code == 400
    assert second.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the authorization code was invalid.",
    }


async def test_an_x_code_expires_after_thirty_seconds(
    client: httpx.AsyncClient, sandbox_clock: Clock
) -> None:
    verifier = new_verifier()
    code = await _x_code(client, verifier)
    sandbox_clock.now += 31
    assert (await _x_exchange(client, code, verifier)).status_code == 400


async def test_x_checks_the_pkce_verifier(client: httpx.AsyncClient) -> None:
    code = await _x_code(client, new_verifier())
    assert (await _x_exchange(client, code, new_verifier())).status_code == 400


async def test_x_checks_the_redirect_uri_matches_exactly(client: httpx.AsyncClient) -> None:
    verifier = new_verifier()
    code = await _x_code(client, verifier)
    response = await _x_exchange(client, code, verifier, redirect_uri=REDIRECT + "/")
    assert response.status_code == 400


async def test_x_requires_the_client_secret_as_basic_auth(client: httpx.AsyncClient) -> None:
    verifier = new_verifier()
    code = await _x_code(client, verifier)
    response = await _x_exchange(client, code, verifier, headers=_basic(secret="wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized_client"


async def test_x_rotates_refresh_tokens_and_a_reused_one_ends_the_grant(
    client: httpx.AsyncClient,
    state: SandboxState,
) -> None:
    verifier = new_verifier()
    tokens = (await _x_exchange(client, await _x_code(client, verifier), verifier)).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    rotated = await client.post("/2/oauth2/token", data=refresh, headers=_basic())
    replayed = await client.post("/2/oauth2/token", data=refresh, headers=_basic())

    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert replayed.status_code == 400
    assert replayed.json()["error_description"] == "Value passed for the token was invalid."
    me = await client.get(
        "/2/users/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}
    )
    assert me.status_code == 401  # the replay ended the whole grant


async def test_linkedin_checks_client_credentials_and_answers_userinfo(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/oauth/v2/authorization",
        params={
            "response_type": "code",
            "client_id": "liid",
            "redirect_uri": REDIRECT,
            "state": "s",
            "scope": "openid profile w_member_social",
        },
    )
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "liid",
        "client_secret": "wrong",
    }
    refused = await client.post("/oauth/v2/accessToken", data=form)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


async def test_meta_reports_a_used_code_the_graph_way(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v24.0/dialog/oauth",
        params={
            "client_id": "123",
            "redirect_uri": REDIRECT,
            "state": "s",
            "scope": "pages_show_list",
        },
    )
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    params = {
        "client_id": "123",
        "client_secret": "metasecret",
        "redirect_uri": REDIRECT,
        "code": code,
    }
    assert (await client.get("/v24.0/oauth/access_token", params=params)).status_code == 200
    again = await client.get("/v24.0/oauth/access_token", params=params)
    error = again.json()["error"]
    assert again.status_code == 400
    assert (error["type"], error["code"], error["error_subcode"]) == ("OAuthException", 100, 36009)
    assert "fbtrace_id" in error


async def test_meta_refuses_an_invalid_token_with_code_190(client: httpx.AsyncClient) -> None:
    response = await client.get("/v24.0/me/accounts", headers={"Authorization": "Bearer nope"})
    assert response.json()["error"]["code"] == 190


async def test_linkedin_paths_are_not_taken_for_graph_versions(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/userinfo", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["serviceErrorCode"] == 65600
