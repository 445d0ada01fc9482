"""DynamoDB out of reach: every route answers 503 with Retry-After (docs/api.md), never a 500.

Two ways it is out of reach: the connection itself fails (a port nothing listens on, as when
the VPC endpoint or the network is gone), and DynamoDB answering that it cannot serve now
(throttling past botocore's own retries, an internal error). The routes come from the app's
OpenAPI description, so a new route is covered without editing a list.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from herald.api.app import create_app
from herald.container import Container
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant
from tests.fakes.oauth import follow_platform

# Routes that never read DynamoDB before answering: the OAuth callback without a key spends a
# Redis state and holds the accounts in Redis; /health answers 503 with its own checks.
NO_TABLE = {("GET", "/api/v1/oauth/{platform}/callback"), ("GET", "/health")}
# Reads the table for its key only (the state it makes lives in Redis).
KEY_ONLY = {"GET /api/v1/oauth/linkedin/authorize"}
ROUTE_PLATFORM = {"twitter": "x", "meta": "facebook", "threads": "threads"}
FAULTS = {
    "connection refused": lambda: EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
    "throttled": lambda: ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Query"
    ),
    "internal error": lambda: ClientError(
        {"Error": {"Code": "InternalServerError", "Message": "Internal server error"}}, "GetItem"
    ),
}


@contextmanager
def dynamodb_failing(
    monkeypatch: pytest.MonkeyPatch, fault: Any, *, spare_keys: bool
) -> Iterator[None]:
    """Every DynamoDB request raises `fault()`; with `spare_keys`, the API key's lookup still
    answers, so the failure reaches the route's own work rather than authentication."""
    real = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def failing(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name != "dynamodb":
            return real(self, operation, params)
        if spare_keys and _reads_a_key(operation, params):
            return real(self, operation, params)
        raise fault()

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", failing)
        yield


def _reads_a_key(operation: str, params: dict[str, Any]) -> bool:
    if operation == "GetItem":
        return str(params["Key"]["pk"]).startswith("APIKEY#")
    if operation == "BatchGetItem":
        keys = next(iter(params["RequestItems"].values()))["Keys"]
        return any(str(k["pk"]).startswith("APIKEY#") for k in keys)
    return False


Planned = tuple[str, str, dict[str, Any] | None]


def _requests(tenant: Tenant, post_id: str, confirmation: str) -> list[Planned]:
    spec = create_app().openapi()
    planned = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if (method.upper(), path) in NO_TABLE:
                continue
            concrete = (
                path.replace("{platform}", "linkedin")
                .replace("{post_id}", post_id)
                .replace("{account_id}", tenant.accounts["linkedin"])
                .replace("{business_id}", tenant.business_id)
                .replace("{media_id}", "media_" + "0" * 26)
            )
            platform = ROUTE_PLATFORM.get(concrete.rsplit("/", 1)[-1], "linkedin")
            body = _body(spec, operation, tenant, platform, confirmation)
            planned.append((method.upper(), concrete, body))
    return planned


def _body(
    spec: dict[str, Any],
    operation: dict[str, Any],
    tenant: Tenant,
    platform: str,
    confirmation: str,
) -> Any:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    body: dict[str, Any] = copy.deepcopy((schema.get("examples") or [{}])[0])
    if "account_ids" in body:
        body["account_ids"] = [tenant.accounts[platform]]
        body.pop("image_url", None)
    if "scheduled_for" in body:
        body["scheduled_for"] = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        body.pop("timezone", None)
    if "confirmation" in schema.get("properties", {}):
        body = {"confirmation": confirmation}
    return body


@pytest.fixture
def tenant(oauth_container: Container, sandbox_app: Any) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Acme Bakery")


@pytest.fixture
def confirmation(api_call: ApiCaller, tenant: Tenant, sandbox_app: Any) -> str:
    """Accounts held by a keyless callback, waiting for the business's confirm (which writes
    them to the table)."""
    started = api_call("GET", "/api/v1/oauth/linkedin/authorize", headers=tenant.headers)
    back = follow_platform(sandbox_app, started.json()["authorization_url"])
    held = api_call("GET", "/api/v1/oauth/linkedin/callback", params=back)
    assert held.status_code == 302, held.text
    return parse_qs(urlsplit(held.headers["location"]).query)["confirm"][0]


@pytest.fixture
def post_id(api_call: ApiCaller, tenant: Tenant) -> str:
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    scheduled = api_call(
        "POST",
        "/api/v1/schedule",
        headers=tenant.headers,
        json={"account_ids": [tenant.accounts["x"]], "text": "Later", "scheduled_for": when},
    )
    assert scheduled.status_code == 201, scheduled.text
    return str(scheduled.json()["post_id"])


def _assert_unavailable(answers: dict[str, Any]) -> None:
    wrong = {
        route: (r.status_code, r.headers.get("retry-after"), r.headers.get("content-type"))
        for route, r in answers.items()
        if r.status_code != 503
        or r.headers.get("retry-after") != "5"
        or r.headers.get("content-type") != "application/problem+json"
        or r.json().get("component") != "dynamodb"
    }
    assert answers
    assert wrong == {}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_every_route_is_a_503_with_retry_after_when_its_own_reads_and_writes_fail(
    api_call: ApiCaller,
    tenant: Tenant,
    post_id: str,
    confirmation: str,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    answers = {}
    with dynamodb_failing(monkeypatch, FAULTS[fault], spare_keys=True):
        for method, path, body in _requests(tenant, post_id, confirmation):
            if f"{method} {path}" in KEY_ONLY:
                continue
            answers[f"{method} {path}"] = api_call(method, path, headers=tenant.headers, json=body)

    _assert_unavailable(answers)


def test_every_route_is_a_503_not_a_401_when_the_key_itself_cannot_be_read(
    api_call: ApiCaller,
    tenant: Tenant,
    post_id: str,
    confirmation: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {}
    with dynamodb_failing(monkeypatch, FAULTS["connection refused"], spare_keys=False):
        for method, path, body in _requests(tenant, post_id, confirmation):
            answers[f"{method} {path}"] = api_call(method, path, headers=tenant.headers, json=body)

    _assert_unavailable(answers)


def test_a_table_on_a_port_nothing_listens_on_is_a_503_naming_dynamodb(
    oauth_container: Container, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.config import Config

    # No moto here: a real connection to a closed port, without botocore's retries to wait out.
    session = boto3.session.Session(region_name="us-east-1")
    closed = session.resource(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        config=Config(connect_timeout=0.2, read_timeout=0.2, retries={"max_attempts": 1}),
    )
    oauth_container.__dict__.pop("businesses", None)
    oauth_container.__dict__["raw_table"] = closed.Table(oauth_container.settings.table_name)
    oauth_container.__dict__.pop("table", None)
    caller = ApiCaller(create_app(oauth_container))
    try:
        response = caller("GET", "/api/v1/me", headers=tenant.headers)
    finally:
        caller.close()

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["component"] == "dynamodb"
    assert "DynamoDB" in response.json()["detail"]


def test_a_confirm_refused_for_dynamodb_can_be_sent_again_once_it_is_back(
    api_call: ApiCaller,
    tenant: Tenant,
    confirmation: str,
    oauth_container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "/api/v1/oauth/linkedin/confirm"
    body = {"confirmation": confirmation}
    with dynamodb_failing(monkeypatch, FAULTS["connection refused"], spare_keys=True):
        refused = api_call("POST", path, headers=tenant.headers, json=body)

    again = api_call("POST", path, headers=tenant.headers, json=body)

    assert refused.status_code == 503
    assert again.status_code == 200, again.text
    assert [a["platform"] for a in again.json()["connected"]] == ["linkedin"]
