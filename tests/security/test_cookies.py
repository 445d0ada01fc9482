"""Herald sets no cookies: the API authenticates with a bearer key, OAuth binds its flow with a
one-time state, and the dashboard keeps its key in the page. Every operation of the OpenAPI
description, with and without a key, and the OAuth round trip answer without Set-Cookie."""

from __future__ import annotations

import pytest

from herald.api.app import create_app
from herald.container import Container
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant
from tests.fakes.oauth import follow_platform


@pytest.fixture
def owner(oauth_container: Container, sandbox_app: object) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Owner Bakery")


def _every_operation() -> list[tuple[str, str]]:
    spec = create_app().openapi()
    return [
        (method.upper(), path.replace("{platform}", "linkedin"))
        for path, item in spec["paths"].items()
        for method in item
    ]


def test_no_operation_sets_a_cookie(api_call: ApiCaller, owner: Tenant) -> None:
    cookies = {}
    for method, path in _every_operation():
        concrete = path.replace("{business_id}", owner.business_id)
        for suffix in ("post_id", "account_id"):
            concrete = concrete.replace("{" + suffix + "}", "missing")
        for headers in ({}, owner.headers):
            response = api_call(method, concrete, headers=headers, json={})
            if "set-cookie" in response.headers:
                cookies[f"{method} {concrete}"] = response.headers["set-cookie"]

    assert cookies == {}


def test_the_oauth_round_trip_sets_no_cookie(
    api_call: ApiCaller, owner: Tenant, sandbox_app: object
) -> None:
    started = api_call("GET", "/api/v1/oauth/x/authorize?redirect=true", headers=owner.headers)
    query = follow_platform(sandbox_app, started.headers["location"])
    finished = api_call("GET", "/api/v1/oauth/x/callback", params=query)

    assert started.status_code == 302
    assert finished.status_code == 302
    assert "set-cookie" not in started.headers
    assert "set-cookie" not in finished.headers


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs", "/app/"])
def test_documentation_and_dashboard_set_no_cookie(api_call: ApiCaller, path: str) -> None:
    response = api_call("GET", path)

    assert "set-cookie" not in response.headers
