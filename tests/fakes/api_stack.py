"""The API in process on moto, real Redis and the sandbox: `create_app(container)` reached
through `httpx.ASGITransport`, with businesses whose accounts were connected through the sandbox's
OAuth. For tests that walk every route (tests/security, tests/fuzz). Import the fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from herald import aio
from herald.admin.commands import create_business
from herald.api.app import create_app
from herald.container import Container
from tests.fakes.oauth import connect

API = "http://herald.test"
PROVIDERS = ("linkedin", "x", "meta", "threads")


@dataclass
class Tenant:
    business_id: str
    api_key: str
    accounts: dict[str, str] = field(default_factory=dict)  # platform -> account id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_tenant(container: Container, sandbox_app: Any, name: str) -> Tenant:
    created = create_business(container, name)
    tenant = Tenant(created["business_id"], created["api_key"])
    for provider in PROVIDERS:
        for account in connect(container, sandbox_app, tenant.business_id, provider):
            tenant.accounts.setdefault(account.platform, account.account_id)
    return tenant


class ApiCaller:
    """Sync calls to the app on the process-wide loop (herald.aio), the loop the container's
    async clients are bound to."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API)

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return aio.run(self.client.request(method, path, **kwargs))

    def close(self) -> None:
        aio.run(self.client.aclose())


@pytest.fixture
def api_call(oauth_container: Container) -> Iterator[ApiCaller]:
    caller = ApiCaller(create_app(oauth_container))
    yield caller
    caller.close()
