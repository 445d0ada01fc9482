"""X publisher: tweets, resumable threads, media upload, errors and reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress
from herald.platforms.images import ImageFetcher
from herald.platforms.x import XPublisher
from tests.fakes.platform_http import FakePlatform, body, resolves_public

API = "https://api.x.test"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CREDS = Credentials("acc_x", "x", "2244994945", "x-token", {"username": "herald"})


def tweet(tweet_id: str, text: str = "") -> httpx.Response:
    return httpx.Response(201, json={"data": {"id": tweet_id, "text": text}})


def numbered_tweets() -> object:
    counter = iter(range(1, 100))

    def answer(request: httpx.Request) -> httpx.Response:
        return tweet(f"t{next(counter)}")

    return answer


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def publisher(platform: FakePlatform) -> AsyncIterator[XPublisher]:
    client = platform.client()
    images = ImageFetcher(client, resolve=resolves_public)
    yield XPublisher(client, api_base=API, now=lambda: NOW, images=images)
    await client.aclose()


async def test_a_tweet_is_one_post_to_2_tweets(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("POST", "/2/tweets", tweet("1460323737035677698", "Hello"))

    published = await publisher.publish(CREDS, Content(text="Hello"), Progress())

    [request] = platform.requests
    assert str(request.url) == f"{API}/2/tweets"
    assert request.headers["authorization"] == "Bearer x-token"
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {"text": "Hello"}
    assert published.platform_post_id == "1460323737035677698"
    assert published.url == "https://x.com/herald/status/1460323737035677698"


async def test_without_a_username_the_url_uses_the_i_path(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("POST", "/2/tweets", tweet("5"))
    creds = Credentials("acc_x", "x", "1", "x-token")

    published = await publisher.publish(creds, Content(text="Hello"), Progress())

    assert published.url == "https://x.com/i/status/5"


async def test_a_thread_is_a_reply_chain(platform: FakePlatform, publisher: XPublisher) -> None:
    platform.on("POST", "/2/tweets", numbered_tweets())  # type: ignore[arg-type]

    published = await publisher.publish(CREDS, Content(thread=("one", "two", "three")), Progress())

    assert [body(r) for r in platform.requests] == [
        {"text": "one"},
        {"text": "two", "reply": {"in_reply_to_tweet_id": "t1"}},
        {"text": "three", "reply": {"in_reply_to_tweet_id": "t2"}},
    ]
    assert published.part_ids == ("t1", "t2", "t3")
    assert published.platform_post_id == "t1"


async def test_a_thread_retry_resumes_at_the_failed_tweet_and_never_reposts(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on(
        "POST", "/2/tweets",
        tweet("t1"),
        httpx.Response(503, json={"title": "Service Unavailable", "status": 503}),
        tweet("t2"),
        tweet("t3"),
    )  # fmt: skip
    stored: list[list[str]] = []

    async def record(ids: list[str]) -> None:
        stored.append(ids)

    progress = Progress(record=record)
    content = Content(thread=("one", "two", "three"))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, content, progress)
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert "tweet 2 of the thread" in caught.value.detail
    assert stored == [["t1"]]

    published = await publisher.publish(CREDS, content, Progress(part_ids=list(stored[-1])))

    texts = [body(r)["text"] for r in platform.requests]
    assert texts == ["one", "two", "two", "three"]  # "one" went out exactly once
    assert body(platform.requests[2])["reply"] == {"in_reply_to_tweet_id": "t1"}
    assert published.part_ids == ("t1", "t2", "t3")


async def test_an_image_is_uploaded_through_v2_media_upload_and_attached_to_the_first_tweet(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on(
        "GET",
        "/cat.jpg",
        httpx.Response(200, content=b"JPEG", headers={"content-type": "image/jpeg"}),
    )
    platform.on("POST", "/2/media/upload", httpx.Response(200, json={
        "data": {"id": "1880028106020515840", "media_key": "3_1880028106020515840"}
    }))  # fmt: skip
    platform.on("POST", "/2/tweets", numbered_tweets())  # type: ignore[arg-type]

    await publisher.publish(
        CREDS, Content(thread=("a", "b"), image_url="https://cdn.test/cat.jpg"), Progress()
    )

    [upload] = platform.sent("POST", "/2/media/upload")
    assert upload.headers["authorization"] == "Bearer x-token"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    form = upload.content
    assert b'name="media_category"\r\n\r\ntweet_image' in form
    assert b'name="media"; filename="image"' in form
    assert b"JPEG" in form
    first, second = platform.sent("POST", "/2/tweets")
    assert body(first)["media"] == {"media_ids": ["1880028106020515840"]}
    assert "media" not in body(second)


ERRORS = [
    (403, {"title": "Forbidden", "type": "about:blank", "status": 403,
           "detail": "You are not allowed to create a Tweet with duplicate content."},
     ErrorKind.DUPLICATE),
    (401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
           "detail": "Unauthorized"}, ErrorKind.AUTH_REVOKED),
    (400, {"errors": [{"parameters": {"text": ["x" * 300]}, "message": "text is too long"}],
           "title": "Invalid Request", "type": "https://api.x.com/2/problems/invalid-request",
           "detail": "One or more parameters to your request was invalid."},
     ErrorKind.INVALID_CONTENT),
    (403, {"title": "Client Forbidden", "type": "https://api.x.com/2/problems/client-forbidden",
           "status": 403, "detail": "This request must be made using an approved developer "
           "account that is enrolled in the requested endpoint."}, ErrorKind.PLATFORM_ERROR),
    (500, {"title": "Internal Server Error", "status": 500}, ErrorKind.TRANSIENT),
]  # fmt: skip


@pytest.mark.parametrize(("status", "payload", "kind"), ERRORS)
async def test_documented_errors_map_to_a_kind(
    platform: FakePlatform,
    publisher: XPublisher,
    status: int,
    payload: dict[str, object],
    kind: ErrorKind,
) -> None:
    platform.on("POST", "/2/tweets", httpx.Response(status, json=payload))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(text="Hi"), Progress())

    assert caught.value.kind is kind


async def test_a_429_retries_when_x_rate_limit_reset_says(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    reset = int(NOW.timestamp()) + 90
    platform.on("POST", "/2/tweets", httpx.Response(
        429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
              "status": 429},
        headers={"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                 "x-rate-limit-reset": str(reset)},
    ))  # fmt: skip

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(text="Hi"), Progress())

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after == 90


async def test_the_24_hour_user_cap_outlasts_the_window_reset(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    now = int(NOW.timestamp())
    platform.on("POST", "/2/tweets", httpx.Response(429, json={"status": 429}, headers={
        "x-rate-limit-remaining": "50", "x-rate-limit-reset": str(now + 60),
        "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(now + 7200),
    }))  # fmt: skip

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(text="Hi"), Progress())

    assert caught.value.retry_after == 7200


async def test_a_dropped_connection_mid_thread_is_ambiguous_and_keeps_earlier_tweets(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("POST", "/2/tweets", tweet("t1"), httpx.RemoteProtocolError("peer closed"))
    progress = Progress()

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(thread=("a", "b")), progress)

    assert caught.value.kind is ErrorKind.AMBIGUOUS
    assert progress.part_ids == ["t1"]


async def test_find_recent_sees_through_t_co_links_and_html_escaping(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/2/users/2244994945/tweets", httpx.Response(200, json={"data": [
        {"id": "99", "text": "Q&amp;A at 5 https://t.co/abc", "created_at": "2026-11-25T12:00:01Z"},
        {"id": "98", "text": "something else"},
    ]}))  # fmt: skip

    found = await publisher.find_recent(CREDS, Content(text="Q&A at 5 https://example.com/qa"), NOW)

    assert found is not None
    assert found.platform_post_id == "99"
    [request] = platform.requests
    assert request.url.params["start_time"] == "2026-11-25T12:00:00Z"


async def test_find_recent_finds_a_whole_thread_in_order(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/2/users/2244994945/tweets", httpx.Response(200, json={"data": [
        {"id": "t2", "text": "two"}, {"id": "t1", "text": "one"},
    ]}))  # fmt: skip

    found = await publisher.find_recent(CREDS, Content(thread=("one", "two")), NOW)

    assert found is not None
    assert found.part_ids == ("t1", "t2")


async def test_find_recent_returns_none_for_a_partial_thread(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/2/users/2244994945/tweets", httpx.Response(200, json={"data": [
        {"id": "t1", "text": "one"},
    ]}))  # fmt: skip

    assert await publisher.find_recent(CREDS, Content(thread=("one", "two")), NOW) is None


async def test_find_recent_pages_back_through_a_busy_timeline(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    # More than a page of other tweets went out after the one a dead run posted.
    newer = [{"id": str(500 + i), "text": f"other {i}"} for i in range(100)]
    platform.on(
        "GET",
        "/2/users/2244994945/tweets",
        httpx.Response(
            200, json={"data": newer, "meta": {"result_count": 100, "next_token": "p2"}}
        ),
        httpx.Response(
            200, json={"data": [{"id": "42", "text": "mine"}], "meta": {"result_count": 1}}
        ),
    )

    found = await publisher.find_recent(CREDS, Content(text="mine"), NOW)

    assert found is not None
    assert found.platform_post_id == "42"
    first, second = platform.requests
    assert "pagination_token" not in first.url.params
    assert second.url.params["pagination_token"] == "p2"
    assert second.url.params["start_time"] == first.url.params["start_time"]
