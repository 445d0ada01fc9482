"""Where OAuth sends a browser comes from settings only: the platform's redirect_uri is
PUBLIC_API_URL's callback, and the callback's redirect is FRONTEND_URL, whatever the request
carries (`redirect_uri`, `next`, `return_to`, a Host header)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from herald.container import Container
from herald.oauth.flows import provider_of
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant
from tests.fakes.oauth import follow_platform

EVIL = "https://evil.example/steal"
HIJACKS = {"redirect_uri": EVIL, "next": EVIL, "return_to": EVIL, "redirect": EVIL, "url": EVIL}
PROVIDERS = ("linkedin", "x", "meta")


@pytest.fixture
def owner(oauth_container: Container, sandbox_app: object) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Owner Bakery")


def _authorize(api_call: ApiCaller, owner: Tenant, provider: str) -> str:
    response = api_call(
        "GET",
        f"/api/v1/oauth/{provider}/authorize",
        params={"redirect_uri": EVIL, "next": EVIL},
        headers={**owner.headers, "Host": "evil.example"},
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["authorization_url"]
    return url


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_platform_is_given_only_the_configured_callback(
    api_call: ApiCaller, owner: Tenant, oauth_container: Container, provider: str
) -> None:
    url = _authorize(api_call, owner, provider)

    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    assert redirect_uri == oauth_container.settings.oauth_redirect_uri(provider_of(provider))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_successful_callback_goes_only_to_the_frontend(
    api_call: ApiCaller,
    owner: Tenant,
    oauth_container: Container,
    sandbox_app: object,
    provider: str,
) -> None:
    query = follow_platform(sandbox_app, _authorize(api_call, owner, provider))

    response = api_call(
        "GET",
        f"/api/v1/oauth/{provider}/callback",
        params={**query, **HIJACKS},
        headers={"Host": "evil.example", "Referer": EVIL},
    )

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(oauth_container.settings.frontend_url + "?")
    assert "evil" not in location
    assert "confirm" in parse_qs(urlsplit(location).query)


def test_a_refused_consent_goes_only_to_the_frontend(
    api_call: ApiCaller, owner: Tenant, oauth_container: Container, sandbox_app: object
) -> None:
    query = follow_platform(sandbox_app, _authorize(api_call, owner, "linkedin"))

    response = api_call(
        "GET",
        "/api/v1/oauth/linkedin/callback",
        params={"state": query["state"], "error": "user_cancelled_login", **HIJACKS},
    )

    assert response.status_code == 302
    assert response.headers["location"].startswith(oauth_container.settings.frontend_url + "?")
    assert "evil" not in response.headers["location"]


def test_an_unknown_state_redirects_nowhere(api_call: ApiCaller) -> None:
    response = api_call(
        "GET",
        "/api/v1/oauth/linkedin/callback",
        params={"state": "forged", "code": "whatever", **HIJACKS},
    )

    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
