"""An image_url that cannot be downloaded is the image's failure: the target says which URL and
why, it is not called a platform outage, and it is not retried as one.

The API publishes to the sandbox over the real LinkedIn adapter; the image host is a transport
that answers what each test needs, and counts how often it was asked.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from herald.api.app import create_app
from herald.container import Container
from herald.local.sandbox.state import SandboxState
from tests.fakes.api_stack import ApiCaller, Tenant, make_tenant

IMAGE = "http://images.test/bakery/loaf.png"


class ImageHost(httpx.AsyncBaseTransport):
    """The sandbox for everything but images.test, which answers `answer`."""

    def __init__(self, sandbox_app: Any) -> None:
        self.inner = httpx.ASGITransport(app=sandbox_app)
        self.answer: httpx.Response | Exception = httpx.Response(503)
        self.asked = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "images.test":
            return await self.inner.handle_async_request(request)
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def tenant(oauth_container: Container, sandbox_app: Any) -> Tenant:
    return make_tenant(oauth_container, sandbox_app, "Acme Bakery")


@pytest.fixture
def images(oauth_container: Container, sandbox_app: Any, tenant: Tenant) -> ImageHost:
    host = ImageHost(sandbox_app)
    oauth_container.__dict__["http"] = httpx.AsyncClient(transport=host)
    oauth_container.__dict__.pop("publishers", None)
    return host


@pytest.fixture
def api(oauth_container: Container) -> Any:
    caller = ApiCaller(create_app(oauth_container))
    yield caller
    caller.close()


def _publish(api: ApiCaller, tenant: Tenant) -> httpx.Response:
    body = {"account_ids": [tenant.accounts["linkedin"]], "text": "New loaves", "image_url": IMAGE}
    return api("POST", "/api/v1/publish/linkedin", headers=tenant.headers, json=body)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (httpx.Response(503), "HTTP 503"),
        (httpx.Response(404), "HTTP 404"),
        (httpx.ReadTimeout("timed out"), "ReadTimeout"),
        (httpx.Response(200, text="<html>", headers={"content-type": "text/html"}), "text/html"),
    ],
    ids=["busy", "missing", "timeout", "not an image"],
)
def test_an_image_that_cannot_be_downloaded_fails_its_target_naming_the_url_and_why(
    api: ApiCaller,
    tenant: Tenant,
    images: ImageHost,
    sandbox: SandboxState,
    answer: httpx.Response | Exception,
    why: str,
) -> None:
    images.answer = answer

    response = _publish(api, tenant)

    [target] = response.json()["targets"]
    assert response.status_code == 502, response.text
    assert target["status"] == "failed"
    assert target["error_kind"] == "image_unavailable"
    assert IMAGE in target["last_error"]
    assert why in target["last_error"]
    assert "transient" not in target["last_error"]
    assert target["attempts"] == 1
    assert images.asked == 1  # not retried as if LinkedIn were down
    assert [p for p in sandbox.posts.values() if p["platform"] == "linkedin"] == []


def test_an_image_failure_is_not_a_redelivery_for_the_worker(
    oauth_container: Container, tenant: Tenant, images: ImageHost
) -> None:
    from herald import aio
    from herald.platforms.base import Content
    from herald.posts import Post, PostStatus, Target
    from herald.publishing import publish_post

    post = Post(
        post_id="post_01jf0000000000000000000001",
        business_id=tenant.business_id,
        status=PostStatus.QUEUED,
        content=Content(text="New loaves", image_url=IMAGE),
        targets={
            tenant.accounts["linkedin"]: Target(tenant.accounts["linkedin"], "linkedin"),
        },
        created_at="2026-12-01T00:00:00.000000Z",
    )
    oauth_container.posts.create(post)

    outcome = aio.run(
        publish_post(
            oauth_container.engine_ports,
            tenant.business_id,
            post.post_id,
            retry_in_process=False,
            last_attempt=False,
        )
    )

    assert not outcome.retry_later
    assert outcome.status == PostStatus.FAILED
    assert images.asked == 1
