"""The real Threads publisher against the sandbox's Threads, in process (ASGITransport): every
kind of post, chains that resume, the publishing limit, faults, and reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from herald.accounts import Credentials
from herald.local.sandbox.app import create_app
from herald.local.sandbox.state import SandboxState, Token
from herald.platforms.base import Content, ErrorKind, MediaItem, PlatformError, Progress
from herald.platforms.threads import ThreadsPublisher
from herald.settings import Settings

BASE = "http://sandbox.test"
USER = "25000000000000001"
SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_replies")


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def state() -> SandboxState:
    return SandboxState()


@pytest.fixture
def app(state: SandboxState) -> FastAPI:
    return create_app(state=state, settings=Settings(HERALD_ENV="test"))


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    yield client
    await client.aclose()


@pytest.fixture
def creds(state: SandboxState) -> Credentials:
    value = state.issue_token(
        Token("threads", "client", USER, SCOPES, None, long_lived=True), "THQL"
    )
    return Credentials("acc_th", "threads", USER, value, {"username": "sandbox.bakery"})


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def threads(http: httpx.AsyncClient, sleeps: Sleeps) -> ThreadsPublisher:
    return ThreadsPublisher(http, graph_base=f"{BASE}/threads", version="v1.0", sleep=sleeps)


async def posts(http: httpx.AsyncClient) -> list[dict[str, object]]:
    listed = (await http.get("/_sandbox/posts", params={"platform": "threads"})).json()["posts"]
    return list(listed)


async def test_a_text_post_lands_with_its_link_and_a_permalink(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials
) -> None:
    content = Content(text="Fresh bread at 7 🍞", link="https://bakery.test/hours")

    published = await threads.publish(creds, content, Progress())

    [post] = await posts(http)
    assert post["text"] == "Fresh bread at 7 🍞"
    assert post["link"] == "https://bakery.test/hours"
    assert post["media_type"] == "TEXT"
    assert published.url == post["url"]


async def test_a_carousel_of_an_image_and_a_video_waits_for_the_video(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials, sleeps: Sleeps
) -> None:
    await http.post("/_sandbox/threads/config", json={"video_polls": 2})
    content = Content(
        text="The bake",
        media=(
            MediaItem(f"{BASE}/_sandbox/images/a.png"),
            MediaItem("https://cdn.bakery.test/oven.mp4", "video"),
        ),
    )

    await threads.publish(creds, content, Progress())

    [post] = await posts(http)
    assert post["media_type"] == "CAROUSEL"
    assert post["children"] == [
        {"image_url": f"{BASE}/_sandbox/images/a.png"},
        {"video_url": "https://cdn.bakery.test/oven.mp4"},
    ]
    assert len(sleeps.calls) == 2  # the video answered IN_PROGRESS twice


async def test_a_thread_is_a_chain_of_replies_and_a_retry_posts_no_part_twice(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials
) -> None:
    # The third part's publish fails once: the first two are out and recorded.
    await http.post("/_sandbox/faults", json={"platform": "threads", "kind": "500", "after": 2})
    content = Content(thread=("1/3 Our story", "2/3 The oven", "3/3 The bread"))
    progress = Progress()

    with pytest.raises(PlatformError) as caught:
        await threads.publish(creds, content, progress)
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert len(progress.part_ids) == 2

    published = await threads.publish(creds, content, progress)

    out = {p["id"]: p for p in await posts(http)}
    assert len(out) == 3
    first, second, third = published.part_ids
    assert out[first]["reply_to"] is None
    assert out[second]["reply_to"] == first
    assert out[third]["reply_to"] == second
    assert out[third]["text"] == "3/3 The bread"


async def test_a_lost_answer_is_ambiguous_and_reconciliation_finds_the_chain(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials
) -> None:
    await http.post("/_sandbox/faults", json={"platform": "threads", "kind": "drop", "after": 1})
    content = Content(thread=("root", "reply"))
    progress = Progress()
    since = datetime.now(UTC) - timedelta(minutes=2)

    with pytest.raises(PlatformError) as caught:
        await threads.publish(creds, content, progress)
    assert caught.value.kind is ErrorKind.AMBIGUOUS

    found = await threads.find_recent(creds, content, since)

    assert found is not None
    assert found.part_ids[0] == progress.part_ids[0]
    assert len(found.part_ids) == 2  # the reply whose answer was lost is there


async def test_reconciliation_pages_through_a_busy_account(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials
) -> None:
    await http.post("/_sandbox/threads/config", json={"quota_total": 1000})
    target = await threads.publish(creds, Content(text="the one"), Progress())
    for n in range(120):
        await threads.publish(creds, Content(text=f"later {n}"), Progress())

    found = await threads.find_recent(
        creds, Content(text="the one"), datetime.now(UTC) - timedelta(minutes=5)
    )

    assert found is not None
    assert found.platform_post_id == target.platform_post_id


async def test_the_limit_is_checked_first_and_says_when_a_post_frees_up(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials
) -> None:
    await http.post("/_sandbox/threads/config", json={"quota_total": 2})
    for text in ("one", "two"):
        await threads.publish(creds, Content(text=text), Progress())

    with pytest.raises(PlatformError) as caught:
        await threads.publish(creds, Content(text="three"), Progress())

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert "2 of 2 posts in 24 hours" in caught.value.detail
    assert "frees up at" in caught.value.detail
    assert caught.value.retry_after is not None
    assert 86_000 < caught.value.retry_after <= 86_400
    assert len(await posts(http)) == 2
    limit = await threads.publishing_limit(creds)
    assert (limit.posts.used, limit.posts.total) == (2, 2)


async def test_a_revoked_token_is_auth_revoked(
    state: SandboxState, threads: ThreadsPublisher, creds: Credentials
) -> None:
    state.tokens.pop(creds.access_token)

    with pytest.raises(PlatformError) as caught:
        await threads.publish(creds, Content(text="hi"), Progress())

    assert caught.value.kind is ErrorKind.AUTH_REVOKED


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("429", ErrorKind.RATE_LIMITED), ("401", ErrorKind.AUTH_REVOKED),
     ("duplicate", ErrorKind.DUPLICATE)],
)  # fmt: skip
async def test_faults_arrive_in_graphs_shape_and_map_to_the_error_model(
    http: httpx.AsyncClient,
    threads: ThreadsPublisher,
    creds: Credentials,
    kind: str,
    expected: ErrorKind,
) -> None:
    await http.post(
        "/_sandbox/faults",
        json={"platform": "threads", "kind": kind, "account": USER, "retry_after": 120},
    )

    with pytest.raises(PlatformError) as caught:
        await threads.publish(creds, Content(text="hi"), Progress())

    assert caught.value.kind is expected
    if kind == "429":
        assert caught.value.retry_after == 120.0


async def test_the_sandbox_refuses_what_threads_refuses(
    http: httpx.AsyncClient, threads: ThreadsPublisher, creds: Credentials
) -> None:
    six_links = " ".join(f"https://l{i}.test" for i in range(6))
    with pytest.raises(PlatformError) as too_many:
        await threads.publish(creds, Content(text=six_links), Progress())
    with pytest.raises(PlatformError) as too_long:
        await threads.publish(creds, Content(text="🍞" * 126), Progress())  # 504 bytes

    assert too_many.value.kind is ErrorKind.INVALID_CONTENT
    assert "LINK_LIMIT" in too_many.value.detail
    assert too_long.value.kind is ErrorKind.INVALID_CONTENT
    assert await posts(http) == []


async def test_a_first_comment_is_a_reply_to_the_post_and_is_found_again(
    threads: ThreadsPublisher, creds: Credentials, http: httpx.AsyncClient
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    published = await threads.publish(creds, Content(text="Open today"), Progress())

    reply = await threads.comment(creds, published.platform_post_id, "Hours: 7 to 7")

    [post, answer] = await posts(http)
    assert (answer["id"], answer["reply_to"], answer["text"]) == (
        reply,
        post["id"],
        "Hours: 7 to 7",
    )
    found = await threads.find_comment(creds, published.platform_post_id, "Hours: 7 to 7", since)
    assert found == reply
