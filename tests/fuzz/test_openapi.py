"""Every operation of the API's own OpenAPI description, fuzzed with schemathesis, with a valid
key and with none: no 5xx, and every answer documented (status, content type, headers, body);
without a key, every operation the description says needs one answers 401.

The app runs in process on moto, real Redis and the sandbox; requests go through httpx on the
process-wide loop the container's async clients are bound to. Generated ids that happen to be
even (by their hash) are swapped for real ones of the business, so the fuzzer also reaches the
paths where a resource exists: a pending post, or one whose target failed (so a retry publishes).
HERALD_FUZZ_EXAMPLES sets the cases per operation (`make fuzz`
raises it)."""

from __future__ import annotations

import os
import zlib
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from herald import aio
from herald.accounts import PLATFORMS
from herald.api.app import create_app
from herald.clock import FrozenClock
from herald.container import Container
from tests.fakes.api_stack import API, ApiCaller, Tenant, make_tenant
from tests.fakes.oauth import sandbox_client

EXAMPLES = int(os.environ.get("HERALD_FUZZ_EXAMPLES", "12"))
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

SPEC = create_app().openapi()
schema = schemathesis.openapi.from_dict(SPEC)
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def tenant(
    oauth_container: Container, sandbox_app: Any, api_call: ApiCaller, oauth_clock: FrozenClock
) -> Tenant:
    made = make_tenant(oauth_container, sandbox_app, "Fuzzed Bakery")
    when = (oauth_clock.now() + timedelta(days=3)).isoformat()
    created = api_call(
        "POST",
        "/api/v1/schedule",
        headers=made.headers,
        json={"account_ids": [made.accounts["x"]], "text": "Later", "scheduled_for": when},
    )
    assert created.status_code == 201, created.text
    made.accounts["post"] = created.json()["post_id"]
    # A post whose one target failed, so POST /posts/{id}/retry can publish (and then 409).
    fault = {"platform": "linkedin", "kind": "duplicate", "count": 1}
    aio.run(sandbox_client(sandbox_app).post("/_sandbox/faults", json=fault)).raise_for_status()
    failed = api_call(
        "POST",
        "/api/v1/publish/linkedin",
        headers=made.headers,
        json={"account_ids": [made.accounts["linkedin"]], "text": "Now, once"},
    )
    assert failed.status_code == 502, failed.text
    made.accounts["failed_post"] = failed.json()["post_id"]
    return made


def _even(value: object) -> bool:
    return zlib.crc32(repr(value).encode()) % 2 == 0


def _aim_at_real_ids(case: Any, tenant: Tenant) -> None:
    posts = (tenant.accounts["post"], tenant.accounts["failed_post"])
    real = {
        "post_id": posts[zlib.crc32(repr(case.body).encode()) % 2],
        "account_id": tenant.accounts["linkedin"],
        "business_id": tenant.business_id,
    }
    for name, value in (case.path_parameters or {}).items():
        if name in real and _even(value):
            case.path_parameters[name] = real[name]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("account_ids"), list):
        platforms = [p for p in PLATFORMS if p in tenant.accounts]
        body["account_ids"] = [
            tenant.accounts[platforms[i % len(platforms)]] if _even(v) else v
            for i, v in enumerate(body["account_ids"])
        ]


def _send(api_call: ApiCaller, case: Any, headers: dict[str, str]) -> int:
    kwargs = case.as_transport_kwargs(base_url=API)
    # The description declares the key, so schemathesis makes up (or leaves out) Authorization
    # of its own: the test's key, or none, is the one sent.
    generated = kwargs.get("headers") or {}
    sent = {k: v for k, v in generated.items() if k.lower() != "authorization"} | headers
    request: dict[str, Any] = {
        "headers": sent,
        "params": kwargs.get("params"),
        "cookies": kwargs.get("cookies") or None,
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    response = api_call(kwargs["method"], kwargs["url"], **request)
    assert not _server_error(case, response.status_code), (case.method, case.path, response.text)
    case.validate_response(response, checks=CHECKS)
    return response.status_code


def _needs_a_key(case: Any) -> bool:
    operation = SPEC["paths"].get(case.path, {}).get(case.method.lower(), {})
    return bool(operation.get("security"))


# What a request with no key may get before its key is asked for: a body too large to read, or
# one that is not JSON at all (FastAPI parses the body before it runs any dependency).
_BEFORE_THE_KEY = {400, 413}


def _server_error(case: Any, status: int) -> bool:
    """A 5xx, except the publish routes' documented 502: "every target failed on the platform
    side", a result whose body reports each platform's refusal (checked against its schema)."""
    # Schemathesis also tries methods the path does not declare (TRACE, ...): nothing documented.
    operation = SPEC["paths"].get(case.path, {}).get(case.method.lower(), {})
    documented = operation.get("responses", {})
    return status >= 500 and not (status == 502 and "502" in documented)


@schema.parametrize()
@fuzz_settings
def test_with_a_valid_key(case: Any, api_call: ApiCaller, tenant: Tenant) -> None:
    _aim_at_real_ids(case, tenant)
    _send(api_call, case, tenant.headers)


@schema.parametrize()
@fuzz_settings
def test_without_a_key(case: Any, api_call: ApiCaller, tenant: Tenant) -> None:
    _aim_at_real_ids(case, tenant)
    status = _send(api_call, case, {})
    if _needs_a_key(case):
        assert status == 401 or status in _BEFORE_THE_KEY, (case.method, case.path, status)


def _limited(container: Container, **limits: str) -> None:
    # The fuzz runs with the limiter off (its hundreds of cases would spend any budget); here it
    # is on, with a budget small enough to spend in one or two requests.
    update: dict[str, Any] = {"rate_limit_enabled": True, **limits}
    container.settings = container.settings.model_copy(update=update)
    container.__dict__.pop("ratelimiter", None)


def test_a_429_from_the_business_budget_matches_the_description(
    oauth_container: Container, api_call: ApiCaller, tenant: Tenant
) -> None:
    _limited(oauth_container, rate_limit_default="1/minute")
    case = schema["/api/v1/me"]["GET"].Case()

    first = api_call("GET", "/api/v1/me", headers=tenant.headers)
    second = api_call("GET", "/api/v1/me", headers=tenant.headers)

    assert (first.status_code, second.status_code) == (200, 429)
    case.validate_response(first, checks=CHECKS)
    case.validate_response(second, checks=CHECKS)


def test_a_429_from_the_failed_key_budget_matches_the_description(
    oauth_container: Container, api_call: ApiCaller, tenant: Tenant
) -> None:
    _limited(oauth_container, rate_limit_auth_failures="1/minute")
    case = schema["/api/v1/me"]["GET"].Case()
    wrong = {"Authorization": "Bearer hrld_" + "A" * 43}

    answers = [api_call("GET", "/api/v1/me", headers=wrong) for _ in range(3)]

    assert [a.status_code for a in answers] == [401, 429, 429]
    for answer in answers:
        case.validate_response(answer, checks=CHECKS)
