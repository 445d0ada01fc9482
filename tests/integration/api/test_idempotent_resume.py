"""An Idempotency-Key is bound to the post its first request created: a request that dies after
the platform accepted the post is resumed by its retry, never published a second time.

The API talks to the sandbox over the real LinkedIn adapter; the transport between them lets the
sandbox accept the post, then kills the request before Herald hears the answer: as a cancelled
request (its clean-up runs) or as a Lambda killed outright (nothing after the kill runs).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from herald import scheduled_posts
from herald.api.app import create_app
from herald.clock import FrozenClock
from herald.container import Container
from herald.idempotency import LOCK_SECONDS
from herald.local.sandbox.state import SandboxState
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant


class Killed(BaseException):
    """The request's end: not an Exception, so no handler of Herald's catches it."""


class KillAfterAccepted(httpx.AsyncBaseTransport):
    """The sandbox, reached in process; once armed, a post it accepts kills the request before
    the answer reaches the adapter."""

    def __init__(self, sandbox_app: Any) -> None:
        self.inner = httpx.ASGITransport(app=sandbox_app)
        self.armed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.armed and request.method == "POST" and request.url.path == "/rest/posts":
            self.armed = False
            await response.aread()
            raise Killed("the Lambda died after LinkedIn accepted the post")
        return response


class KilledOutright:
    """The idempotency store of a Lambda killed outright: nothing after the kill runs, so the key
    is never let go and waits out its lock."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.dead = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def let_go(self, *args: Any, **kwargs: Any) -> None:
        if not self.dead:
            self.store.let_go(*args, **kwargs)


@pytest.fixture
def tenant(oauth_container: Container, sandbox_app: Any) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Acme Bakery")


@pytest.fixture
def transport(oauth_container: Container, sandbox_app: Any, tenant: Tenant) -> KillAfterAccepted:
    # The tenant connected its accounts through the plain sandbox client; publishing goes
    # through this one.
    killing = KillAfterAccepted(sandbox_app)
    oauth_container.__dict__["http"] = httpx.AsyncClient(
        transport=killing, base_url="http://sandbox.test"
    )
    oauth_container.__dict__.pop("publishers", None)
    return killing


@pytest.fixture
def api(oauth_container: Container) -> Any:
    caller = ApiCaller(create_app(oauth_container))
    yield caller
    caller.close()


def _publish(api: ApiCaller, tenant: Tenant, key: str) -> httpx.Response:
    return api(
        "POST",
        "/api/v1/publish/linkedin",
        headers={**tenant.headers, "Idempotency-Key": key},
        json={"account_ids": [tenant.accounts["linkedin"]], "text": "We open at 7 tomorrow."},
    )


def _linkedin_posts(sandbox: SandboxState) -> list[dict[str, Any]]:
    return [p for p in sandbox.posts.values() if p["platform"] == "linkedin"]


def _stale(oauth_container: Container) -> float:
    return oauth_container.settings.publish_claim_stale_seconds + 1


def test_a_publish_cancelled_after_the_platform_accepted_is_resumed_by_its_retry(
    api: ApiCaller,
    tenant: Tenant,
    transport: KillAfterAccepted,
    sandbox: SandboxState,
    oauth_container: Container,
    oauth_clock: FrozenClock,
) -> None:
    transport.armed = True
    with pytest.raises(Killed):
        _publish(api, tenant, "k-cancelled")
    [live] = _linkedin_posts(sandbox)

    # At once: the dead request's claim is still live, so the retry answers with the post as it
    # stands and lets the engine decide later.
    waiting = _publish(api, tenant, "k-cancelled")
    oauth_clock.advance(_stale(oauth_container))
    settled = _publish(api, tenant, "k-cancelled")
    replayed = _publish(api, tenant, "k-cancelled")

    assert waiting.status_code == 202, waiting.text
    assert waiting.json()["targets"][0]["status"] == "publishing"
    assert settled.status_code == 200, settled.text
    assert settled.json()["post_id"] == waiting.json()["post_id"]
    assert settled.json()["targets"][0]["platform_post_id"] == live["id"]
    assert replayed.json() == settled.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    assert len(_linkedin_posts(sandbox)) == 1


def test_a_publish_killed_outright_after_the_platform_accepted_is_resumed_once_its_lock_ends(
    api: ApiCaller,
    tenant: Tenant,
    transport: KillAfterAccepted,
    sandbox: SandboxState,
    oauth_container: Container,
    oauth_clock: FrozenClock,
) -> None:
    store = KilledOutright(oauth_container.idempotency)
    oauth_container.__dict__["idempotency"] = store
    transport.armed = True
    store.dead = True
    with pytest.raises(Killed):
        _publish(api, tenant, "k-killed")
    store.dead = False
    [live] = _linkedin_posts(sandbox)

    locked = _publish(api, tenant, "k-killed")
    oauth_clock.advance(LOCK_SECONDS + 1)
    waiting = _publish(api, tenant, "k-killed")
    oauth_clock.advance(_stale(oauth_container))
    settled = _publish(api, tenant, "k-killed")

    assert locked.status_code == 409
    assert waiting.status_code == 202, waiting.text
    assert settled.status_code == 200, settled.text
    assert settled.json()["post_id"] == waiting.json()["post_id"]
    assert settled.json()["targets"][0]["platform_post_id"] == live["id"]
    assert len(_linkedin_posts(sandbox)) == 1


def test_a_schedule_that_died_after_storing_its_post_answers_that_post_on_retry(
    api: ApiCaller,
    tenant: Tenant,
    oauth_container: Container,
    oauth_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {
        "account_ids": [tenant.accounts["x"]],
        "text": "Doors open.",
        "scheduled_for": (oauth_clock.now() + timedelta(days=1)).isoformat(),
    }
    headers = {**tenant.headers, "Idempotency-Key": "k-schedule"}
    real = scheduled_posts._dispatch_if_soon

    def die(*args: Any) -> None:
        raise Killed("the Lambda died after the post was stored")

    monkeypatch.setattr(scheduled_posts, "_dispatch_if_soon", die)
    with pytest.raises(Killed):
        api("POST", "/api/v1/schedule", headers=headers, json=body)
    monkeypatch.setattr(scheduled_posts, "_dispatch_if_soon", real)

    retried = api("POST", "/api/v1/schedule", headers=headers, json=body)
    page = api("GET", f"/api/v1/schedule/{tenant.business_id}", headers=tenant.headers)

    assert retried.status_code == 201, retried.text
    assert [p["post_id"] for p in page.json()["items"]] == [retried.json()["post_id"]]
