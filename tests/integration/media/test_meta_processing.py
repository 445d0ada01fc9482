"""Instagram containers and a Facebook Page video through the worker's SQS handler, with the
real publishers over a MockTransport: a container or video still processing sends the message
again instead of waiting, and duplicate deliveries make and publish everything once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from herald.admin.commands import create_business
from herald.clock import FrozenClock, isoformat
from herald.container import Container
from herald.ids import new_id
from herald.media.model import Attachment, MediaFacts
from herald.platforms.base import Content
from herald.platforms.meta import FacebookPublisher, InstagramPublisher
from herald.posts import Post, PostStatus, Target, TargetStatus
from tests.fakes.media import SentMessages
from tests.fakes.scheduling import at, connect_account, install_publishers
from tests.integration.media.test_processing import body_of, deliver, stored, target_on

GRAPH = "https://graph.facebook.test"


@dataclass
class FakeGraph:
    """Graph, graph-video and rupload as far as these flows go: containers IN_PROGRESS for
    `polls` reads, a video `processing` for `polls` reads; every request kept."""

    polls: int = 1
    requests: list[httpx.Request] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)
    made: int = 0

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def count(self, method: str, suffix: str, needle: bytes = b"") -> int:
        return sum(
            1 for r in self.requests
            if r.method == method and r.url.path.endswith(suffix) and needle in r.content
        )  # fmt: skip

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/content_publishing_limit"):
            return httpx.Response(200, json={"data": [
                {"config": {"quota_total": 100}, "quota_usage": 0}]})  # fmt: skip
        if request.method == "POST" and path.endswith("/media"):
            self.made += 1
            return httpx.Response(200, json={"id": f"c{self.made}"})
        if path.endswith("/media_publish"):
            return httpx.Response(200, json={"id": "m1"})
        if request.method == "POST" and path.endswith("/videos"):
            content = request.content
            if b"upload_phase=start" in content:
                started = {"upload_session_id": "s1", "video_id": "v1"}
                return httpx.Response(200, json={**started, "start_offset": "0", "end_offset": "4"})
            if b"finish" in content:
                return httpx.Response(200, json={"success": True})
            return httpx.Response(200, json={"start_offset": "4", "end_offset": "4"})
        node = path.rsplit("/", 1)[-1]
        self.reads[node] = self.reads.get(node, 0) + 1
        ready = self.reads[node] > self.polls
        if node.startswith("c"):
            return httpx.Response(200, json={"status_code": "FINISHED" if ready else "IN_PROGRESS"})
        if node == "v1":
            status = "ready" if ready else "processing"
            return httpx.Response(200, json={"status": {"video_status": status}})
        return httpx.Response(200, json={"id": node, "permalink": "https://ig.test/p/1"})


@pytest.fixture
def wc(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def biz(wc: Container) -> str:
    business_id: str = create_business(wc, "Acme Bakery")["business_id"]
    return business_id


@pytest.fixture
def graph(wc: Container) -> FakeGraph:
    fake = FakeGraph()
    fakes: dict[str, Any] = install_publishers(wc)
    fakes["instagram"] = InstagramPublisher(fake.client(), graph_base=GRAPH, version="v27.0")
    fakes["facebook"] = FacebookPublisher(
        fake.client(), graph_base=GRAPH, version="v27.0", video_base=GRAPH
    )
    return fake


@pytest.fixture
def handler() -> Any:
    from functions.publish_worker import app

    return app.handler


def stored_file(c: Container, name: str, data: bytes, kind: str, content_type: str) -> Attachment:
    key = f"media/test/{name}"
    c.s3.put_object(Bucket=c.settings.media_bucket, Key=key, Body=data)
    facts = MediaFacts(kind, content_type, len(data), 1080, 1080)  # type: ignore[arg-type]
    return Attachment(name, key, facts)


def queued_with(c: Container, business_id: str, platform: str, content: Content) -> Post:
    from herald import tick

    account = connect_account(c, business_id, platform)  # type: ignore[arg-type]
    now = isoformat(c.clock.now())
    post = Post(
        post_id=new_id("post"),
        business_id=business_id,
        status=PostStatus.PENDING,
        content=content,
        targets={account: Target(account_id=account, platform=platform)},  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
        scheduled_for=isoformat(at(c, 5)),
    )
    c.schedule.create(post)
    assert tick.dispatch_due(c.tick_ports).sent == 1
    return c.posts.get(business_id, post.post_id)


def test_an_instagram_carousel_in_progress_comes_back_and_duplicates_publish_it_once(
    wc: Container, biz: str, graph: FakeGraph, handler: Any, clock: FrozenClock
) -> None:
    items = tuple(stored_file(wc, f"media_{i}", b"jpeg", "image", "image/jpeg") for i in (1, 2))
    post = queued_with(wc, biz, "instagram", Content("Two loaves", attachments=items))
    sent = SentMessages(wc)

    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    first = target_on(stored(wc, post), "instagram")
    assert first.status == TargetStatus.PROCESSING
    assert first.media_state["children"] == ["c1", "c2"]
    assert len(sent.messages) == 1

    clock.advance(30)
    for copy in ("m-2", "m-3"):  # the re-sent message and a redelivery of the first
        assert deliver(handler, body_of(post), message_id=copy) == {"batchItemFailures": []}
        clock.advance(30)
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert graph.count("POST", "/media") == 3  # two items and the carousel, each made once
    assert graph.count("POST", "/media_publish") == 1


def test_a_facebook_video_processing_comes_back_and_is_finished_once(
    wc: Container, biz: str, graph: FakeGraph, handler: Any, clock: FrozenClock
) -> None:
    video = stored_file(wc, "media_v", b"mp4!", "video", "video/mp4")
    post = queued_with(wc, biz, "facebook", Content("Clip", attachments=(video,)))

    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    assert target_on(stored(wc, post), "facebook").status == TargetStatus.PROCESSING
    clock.advance(30)
    assert deliver(handler, body_of(post), message_id="m-2") == {"batchItemFailures": []}

    after = stored(wc, post)
    assert after.status == PostStatus.PUBLISHED
    assert target_on(after, "facebook").platform_post_id == "v1"
    assert graph.count("POST", "/videos", b"upload_phase=start") == 1
    assert graph.count("POST", "/videos", b"finish") == 1
