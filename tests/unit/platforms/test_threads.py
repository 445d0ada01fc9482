"""The Threads publisher against a fake Threads API that keeps state and speaks the documented
shapes: containers, their status, `threads_publish`, the publishing limit, and the user's lists."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, ErrorKind, MediaItem, PlatformError, Progress
from herald.platforms.threads import ThreadsPublisher

GRAPH = "https://graph.threads.test"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CREDS = Credentials("acc_th", "threads", "7001", "th-token", {"username": "bakery"})


def graph_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakeThreads:
    """What the publisher talks to, with the state a test asserts on."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.containers: dict[str, dict[str, str]] = {}
        self.published: list[dict[str, str]] = []
        self.ids = itertools.count(1)
        self.processing: dict[str, list[str]] = {}  # container -> statuses still to answer
        self.video_statuses: list[str] = []
        self.quota = {"used": 3, "total": 250, "replies_used": 0, "replies_total": 1000}
        self.listed: dict[str, list[dict[str, Any]]] = {"threads": [], "replies": []}
        self.page_size = 100
        self.fail_publish: dict[int, httpx.Response] = {}  # by publish call number, from 1

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == "Bearer th-token"
        path = request.url.path.removeprefix("/v1.0/")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if request.method == "POST" and path == "7001/threads":
            container = f"c{next(self.ids)}"
            self.containers[container] = form
            if form.get("media_type") == "VIDEO":
                self.processing[container] = list(self.video_statuses)
            return httpx.Response(200, json={"id": container})
        if request.method == "POST" and path == "7001/threads_publish":
            number = len(self.sent("POST", "/v1.0/7001/threads_publish"))
            if number in self.fail_publish:
                return self.fail_publish[number]
            media_id = f"m{next(self.ids)}"
            self.published.append({"id": media_id, **self.containers[form["creation_id"]]})
            return httpx.Response(200, json={"id": media_id})
        if path == "7001/threads_publishing_limit":
            q = self.quota
            return httpx.Response(200, json={"data": [{
                "quota_usage": q["used"],
                "config": {"quota_total": q["total"], "quota_duration": 86400},
                "reply_quota_usage": q["replies_used"],
                "reply_config": {"quota_total": q["replies_total"], "quota_duration": 86400},
            }]})  # fmt: skip
        if path in ("7001/threads", "7001/replies"):
            items = self.listed[path.split("/")[1]]
            offset = int(request.url.params.get("after", 0))
            page: dict[str, Any] = {"data": items[offset : offset + self.page_size]}
            if offset + self.page_size < len(items):
                after = str(offset + self.page_size)
                page["paging"] = {"cursors": {"after": after}, "next": f"{GRAPH}/next"}
            return httpx.Response(200, json=page)
        if path in self.containers:
            statuses = self.processing.get(path) or ["FINISHED"]
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            body = {"id": path, "status": status}
            if status == "ERROR":
                body["error_message"] = "FAILED_PROCESSING_VIDEO"
            return httpx.Response(200, json=body)
        if path.startswith("m"):
            return httpx.Response(
                200, json={"id": path, "permalink": f"https://www.threads.com/@bakery/post/{path}"}
            )
        return httpx.Response(404, json={"error": {"message": "unknown", "code": 100}})

    def form(self, request: httpx.Request) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def threads() -> FakeThreads:
    return FakeThreads()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def publisher(threads: FakeThreads, sleeps: Sleeps) -> AsyncIterator[ThreadsPublisher]:
    client = threads.client()
    yield ThreadsPublisher(
        client, graph_base=GRAPH, version="v1.0", sleep=sleeps, poll_interval=3.0, now=lambda: NOW
    )
    await client.aclose()


def graph_failure(code: int, http_status: int = 400, **extra: Any) -> httpx.Response:
    error = {"message": f"(#{code}) failure", "type": "OAuthException", "code": code, **extra}
    return httpx.Response(http_status, json={"error": error})


async def test_a_text_post_is_a_container_then_published_and_linked(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    published = await publisher.publish(CREDS, Content(text="Fresh bread at 7"), Progress())

    paths = [(r.method, r.url.path) for r in threads.requests]
    assert paths == [
        ("GET", "/v1.0/7001/threads_publishing_limit"),
        ("POST", "/v1.0/7001/threads"),
        ("GET", "/v1.0/c1"),
        ("POST", "/v1.0/7001/threads_publish"),
        ("GET", "/v1.0/m2"),
    ]
    assert threads.form(threads.requests[1]) == {"media_type": "TEXT", "text": "Fresh bread at 7"}
    assert threads.form(threads.requests[3]) == {"creation_id": "c1"}
    assert published.platform_post_id == "m2"
    assert published.url == "https://www.threads.com/@bakery/post/m2"


async def test_a_link_is_attached_to_a_text_post(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    await publisher.publish(
        CREDS, Content(text="Our hours", link="https://bakery.test/hours"), Progress()
    )

    assert threads.containers["c1"]["link_attachment"] == "https://bakery.test/hours"


async def test_an_image_post_names_its_image(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    await publisher.publish(
        CREDS, Content(text="Loaf", image_url="https://cdn.test/loaf.jpg"), Progress()
    )

    assert threads.containers["c1"] == {
        "media_type": "IMAGE",
        "image_url": "https://cdn.test/loaf.jpg",
        "text": "Loaf",
    }


async def test_a_video_is_published_only_once_threads_has_processed_it(
    threads: FakeThreads, publisher: ThreadsPublisher, sleeps: Sleeps
) -> None:
    threads.video_statuses = ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]

    await publisher.publish(
        CREDS, Content(media=(MediaItem("https://cdn.test/oven.mp4", "video"),)), Progress()
    )

    assert threads.containers["c1"] == {
        "media_type": "VIDEO",
        "video_url": "https://cdn.test/oven.mp4",
    }
    assert len(threads.sent("GET", "/v1.0/c1")) == 3
    assert sleeps.calls == [3.0, 3.0]
    assert len(threads.published) == 1


async def test_a_video_still_processing_after_the_polls_is_transient_and_nothing_is_published(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.video_statuses = ["IN_PROGRESS"]

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(
            CREDS, Content(media=(MediaItem("https://cdn.test/oven.mp4", "video"),)), Progress()
        )

    assert caught.value.kind is ErrorKind.TRANSIENT
    assert threads.published == []


async def test_a_video_threads_cannot_process_is_invalid_content_with_its_reason(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.video_statuses = ["ERROR"]

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(
            CREDS, Content(media=(MediaItem("https://cdn.test/oven.mp4", "video"),)), Progress()
        )

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert caught.value.platform_code == "FAILED_PROCESSING_VIDEO"


async def test_several_media_make_a_carousel_of_item_containers(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    content = Content(
        text="The bake",
        image_url="https://cdn.test/a.jpg",
        media=(MediaItem("https://cdn.test/b.mp4", "video"),),
    )

    await publisher.publish(CREDS, content, Progress())

    assert threads.containers["c1"] == {
        "media_type": "IMAGE",
        "image_url": "https://cdn.test/a.jpg",
        "is_carousel_item": "true",
    }
    assert threads.containers["c2"] == {
        "media_type": "VIDEO",
        "video_url": "https://cdn.test/b.mp4",
        "is_carousel_item": "true",
    }
    assert threads.containers["c3"] == {
        "media_type": "CAROUSEL",
        "children": "c1,c2",
        "text": "The bake",
    }
    assert [p["media_type"] for p in threads.published] == ["CAROUSEL"]


async def test_a_thread_goes_out_as_a_chain_of_replies_each_recorded_as_it_lands(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    recorded: list[list[str]] = []

    async def record(ids: list[str]) -> None:
        recorded.append(ids)

    published = await publisher.publish(
        CREDS, Content(thread=("one", "two", "three")), Progress(record=record)
    )

    chain = [(p["text"], p.get("reply_to_id")) for p in threads.published]
    ids = [p["id"] for p in threads.published]
    assert chain == [("one", None), ("two", ids[0]), ("three", ids[1])]
    assert recorded == [ids[:1], ids[:2], ids]
    assert published.part_ids == tuple(ids)
    assert published.platform_post_id == ids[0]


async def test_a_retried_thread_resumes_after_the_last_confirmed_part(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    progress = Progress(part_ids=["m100"])

    published = await publisher.publish(CREDS, Content(thread=("one", "two", "three")), progress)

    assert [(p["text"], p["reply_to_id"]) for p in threads.published] == [
        ("two", "m100"),
        ("three", threads.published[0]["id"]),
    ]
    assert published.part_ids[0] == "m100"


async def test_a_part_refused_midway_names_its_place_and_keeps_what_is_out(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.fail_publish[2] = graph_failure(2, 500)
    progress = Progress()

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(thread=("one", "two")), progress)

    assert caught.value.kind is ErrorKind.TRANSIENT
    assert caught.value.detail.startswith("part 2 of the thread:")
    assert progress.part_ids == [threads.published[0]["id"]]


async def test_a_publish_whose_answer_is_lost_is_ambiguous(threads: FakeThreads) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/threads_publish"):
            raise httpx.ReadTimeout("no answer", request=request)
        return threads.handle(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        publisher = ThreadsPublisher(client, graph_base=GRAPH, version="v1.0", now=lambda: NOW)
        with pytest.raises(PlatformError) as caught:
            await publisher.publish(CREDS, Content(text="hi"), Progress())

    assert caught.value.kind is ErrorKind.AMBIGUOUS


async def test_a_used_up_publishing_limit_refuses_before_posting_and_says_when_it_frees(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.quota.update(used=250, total=250)
    oldest = NOW - timedelta(hours=23)
    threads.listed["threads"] = [
        {"id": f"m{i}", "timestamp": graph_time(NOW - timedelta(minutes=i))} for i in range(120)
    ] + [{"id": "old", "timestamp": graph_time(oldest)}]

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(text="one more"), Progress())

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.platform_code == "threads_publishing_limit"
    assert caught.value.retry_after == 3600.0  # the oldest post leaves the window in an hour
    assert "250 of 250 posts in 24 hours" in caught.value.detail
    assert "2026-12-03T13:00:00" in caught.value.detail
    assert threads.sent("POST", "/v1.0/7001/threads") == []
    listing = threads.sent("GET", "/v1.0/7001/threads")
    assert len(listing) == 2  # paged through the window
    assert listing[0].url.params["since"] == str(int((NOW - timedelta(days=1)).timestamp()))


async def test_a_thread_needs_room_for_all_its_replies(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.quota.update(replies_used=999, replies_total=1000)

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(thread=("one", "two", "three")), Progress())

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert "999 of 1000 replies" in caught.value.detail
    assert caught.value.retry_after == 3600  # no reply in the list says when
    assert threads.published == []


async def test_the_publishing_limit_reads_both_quotas(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    limit = await publisher.publishing_limit(CREDS)

    assert (limit.posts.used, limit.posts.total, limit.posts.window_seconds) == (3, 250, 86400)
    assert limit.replies is not None
    assert limit.replies.left == 1000
    params = threads.requests[0].url.params
    assert params["fields"] == "quota_usage,config,reply_quota_usage,reply_config"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (graph_failure(190), ErrorKind.AUTH_REVOKED),
        (graph_failure(4), ErrorKind.RATE_LIMITED),
        (graph_failure(100), ErrorKind.INVALID_CONTENT),
        (graph_failure(2, 500), ErrorKind.TRANSIENT),
    ],
)
async def test_graph_errors_on_container_creation_map_to_the_error_model(
    threads: FakeThreads, answer: httpx.Response, kind: ErrorKind
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1.0/7001/threads":
            return answer
        return threads.handle(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        publisher = ThreadsPublisher(client, graph_base=GRAPH, version="v1.0", now=lambda: NOW)
        with pytest.raises(PlatformError) as caught:
            await publisher.publish(CREDS, Content(text="hi"), Progress())

    assert caught.value.kind is kind
    assert caught.value.platform == "threads"


async def test_find_recent_pages_back_to_the_post(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.page_size = 2
    threads.listed["threads"] = [
        {"id": "m9", "text": "newer"},
        {"id": "m8", "text": "other"},
        {"id": "m7", "text": "Fresh bread", "permalink": "https://www.threads.com/@b/post/x"},
    ]

    found = await publisher.find_recent(
        CREDS, Content(text="Fresh bread"), NOW - timedelta(minutes=5)
    )

    assert found is not None
    assert (found.platform_post_id, found.url) == ("m7", "https://www.threads.com/@b/post/x")
    assert threads.sent("GET", "/v1.0/7001/threads")[0].url.params["limit"] == "100"


async def test_find_recent_follows_a_chain_through_the_users_replies(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.listed["threads"] = [{"id": "r", "text": "one"}]
    threads.listed["replies"] = [
        {"id": "b", "text": "three", "replied_to": {"id": "a"}},
        {"id": "x", "text": "two", "replied_to": {"id": "elsewhere"}},
        {"id": "a", "text": "two", "replied_to": {"id": "r"}},
    ]

    found = await publisher.find_recent(CREDS, Content(thread=("one", "two", "three")), NOW)

    assert found is not None
    assert found.part_ids == ("r", "a", "b")


async def test_a_partial_chain_is_not_found(
    threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    threads.listed["threads"] = [{"id": "r", "text": "one"}]
    threads.listed["replies"] = [{"id": "a", "text": "two", "replied_to": {"id": "r"}}]

    assert await publisher.find_recent(CREDS, Content(thread=("one", "two", "three")), NOW) is None
