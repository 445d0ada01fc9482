"""Every answer carries the security headers: the dashboard's page a Content-Security-Policy that
allows only its own scripts and API calls, the API's answers no-store, and none of it framed or
sniffed. Errors included."""

from __future__ import annotations

from typing import Any

import pytest

from herald.admin.commands import create_business
from herald.api.app import DASHBOARD_DIR, create_app
from herald.container import Container
from herald.media.origin import upload_origin
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant


@pytest.fixture
def owner(oauth_container: Any, sandbox_app: object) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Owner Bakery")


def _common(headers: Any) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("path", "authenticated"),
    [
        ("/api/v1/me", True),
        ("/api/v1/me", False),  # a 401 problem
        ("/api/v1/posts/post_missing", True),  # a 404 problem
        ("/api/v1/accounts", True),
    ],
)
def test_api_answers_are_never_cached_and_never_framed(
    api_call: ApiCaller, owner: Tenant, path: str, authenticated: bool
) -> None:
    response = api_call("GET", path, headers=owner.headers if authenticated else {})

    _common(response.headers)
    assert response.headers["cache-control"] == "no-store"


def test_health_carries_the_common_headers(api_call: ApiCaller) -> None:
    _common(api_call("GET", "/health").headers)


@pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built"
)
def test_the_dashboard_page_allows_only_its_own_scripts_styles_and_api(
    api_call: ApiCaller, oauth_container: Container
) -> None:
    bucket = upload_origin(oauth_container.media_files)

    response = api_call("GET", "/app/")

    assert response.status_code == 200
    _common(response.headers)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    # The API, and the media bucket the page uploads to (its only other address).
    assert policy["connect-src"] == " ".join(["'self'", *([bucket] if bucket else [])])
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


@pytest.mark.skipif(
    not (DASHBOARD_DIR / "docs" / "swagger-ui-bundle.js").is_file(),
    reason="the dashboard (which brings Swagger UI's files) is not built",
)
def test_the_docs_page_loads_swagger_ui_from_this_origin_only(api_call: ApiCaller) -> None:
    page = api_call("GET", "/docs")
    script = api_call("GET", "/app/docs/swagger-ui-bundle.js")

    assert page.status_code == 200
    assert '"/app/docs/swagger-ui-bundle.js"' in page.text
    assert "https://" not in page.text  # nothing from a CDN
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def test_the_dashboard_page_may_upload_to_the_media_bucket_and_nowhere_else(
    container: Container,
) -> None:
    caller = ApiCaller(create_app(container))
    key = create_business(container, "Upload Bakery")["api_key"]
    try:
        upload = caller(
            "POST",
            "/api/v1/media",
            json={"filename": "a.png"},
            headers={"Authorization": f"Bearer {key}"},
        )
        response = caller("GET", "/app/")
    finally:
        caller.close()

    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    origin = "/".join(upload.json()["upload"]["url"].split("/")[:3])
    assert policy["connect-src"] == f"'self' {origin}"
    assert "blob:" in policy["media-src"]  # a picked video's first frame
