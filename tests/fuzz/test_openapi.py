"""Every operation of the API's own OpenAPI description, fuzzed with schemathesis, with a valid
key and with none: no 5xx, and every answer documented (status, content type, headers, body).

The app runs in process on moto, real Redis and the sandbox; requests go through httpx on the
process-wide loop the container's async clients are bound to. Generated ids that happen to be
even (by their hash) are swapped for real ones of the business, so the fuzzer also reaches the
paths where a resource exists. HERALD_FUZZ_EXAMPLES sets the cases per operation (`make fuzz`
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

from herald.api.app import create_app
from herald.clock import FrozenClock
from herald.container import Container
from tests.fakes.api_stack import API, ApiCaller, Tenant, make_tenant

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
    return made


def _even(value: object) -> bool:
    return zlib.crc32(repr(value).encode()) % 2 == 0


def _aim_at_real_ids(case: Any, tenant: Tenant) -> None:
    real = {
        "post_id": tenant.accounts["post"],
        "account_id": tenant.accounts["linkedin"],
        "business_id": tenant.business_id,
    }
    for name, value in (case.path_parameters or {}).items():
        if name in real and _even(value):
            case.path_parameters[name] = real[name]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("account_ids"), list):
        platforms = [p for p in ("linkedin", "x", "facebook", "instagram") if p in tenant.accounts]
        body["account_ids"] = [
            tenant.accounts[platforms[i % len(platforms)]] if _even(v) else v
            for i, v in enumerate(body["account_ids"])
        ]


def _send(api_call: ApiCaller, case: Any, headers: dict[str, str]) -> None:
    kwargs = case.as_transport_kwargs(base_url=API, headers=headers)
    request: dict[str, Any] = {
        "headers": kwargs.get("headers") or {},
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
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    _send(api_call, case, {})
