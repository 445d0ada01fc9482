"""X publisher: tweets, resumable threads, media upload, errors and reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from herald.accounts import Credentials
from herald.local.sandbox.images import gif, jpeg
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, StillProcessing
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


def comment_blocks(size: int) -> bytes:
    """A GIF comment extension of `size` bytes, to make a GIF as large as a test needs."""
    full, rest = divmod(size, 255)
    blocks = (b"\xff" + b"c" * 255) * full + (bytes([rest]) + b"c" * rest if rest else b"")
    return b"\x21\xfe" + blocks + b"\x00"


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


def image(data: bytes, content_type: str) -> httpx.Response:
    return httpx.Response(200, content=data, headers={"content-type": content_type})


def media(media_id: str, processing: dict[str, object] | None = None) -> httpx.Response:
    data: dict[str, object] = {"id": media_id, "media_key": f"16_{media_id}"}
    if processing is not None:
        data["processing_info"] = processing
    return httpx.Response(200, json={"data": data})


def parts(request: httpx.Request) -> dict[str, bytes]:
    """A multipart body's fields by name."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    found: dict[str, bytes] = {}
    for chunk in request.content.split(b"--" + boundary)[1:-1]:
        head, _, value = chunk.partition(b"\r\n\r\n")
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        found[name] = value[: -len(b"\r\n")]
    return found


async def test_a_still_image_goes_through_the_one_shot_upload_and_on_the_first_tweet(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    photo = jpeg(1200, 800)
    platform.on("GET", "/cat.jpg", image(photo, "image/jpeg"))
    platform.on("POST", "/2/media/upload", media("1880028106020515840"))
    platform.on("POST", "/2/tweets", numbered_tweets())  # type: ignore[arg-type]

    await publisher.publish(
        CREDS, Content(thread=("a", "b"), image_url="https://cdn.test/cat.jpg"), Progress()
    )

    [upload] = platform.sent("POST", "/2/media/upload")
    assert upload.headers["authorization"] == "Bearer x-token"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    # Only the two fields the one-shot schema requires: no media_type, no command.
    assert parts(upload) == {"media_category": b"tweet_image", "media": photo}
    first, second = platform.sent("POST", "/2/tweets")
    assert body(first)["media"] == {"media_ids": ["1880028106020515840"]}
    assert "media" not in body(second)


async def test_an_animated_gif_is_a_tweet_gif_processed_while_the_message_comes_back(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    """initialize, append, finalize; X processes it: the publisher answers StillProcessing with
    X's check_after_secs (no Lambda waits), and each later run asks STATUS from the saved id,
    never uploading again, until X says succeeded and the tweet goes out."""
    animation = gif(frames=3)
    platform.on("GET", "/dance.gif", image(animation, "image/gif"))
    platform.on("POST", "/2/media/upload/initialize", media("77"))
    platform.on("POST", "/2/media/upload/77/append", httpx.Response(200, json={"data": {}}))
    platform.on("POST", "/2/media/upload/77/finalize", media(
        "77", {"state": "pending", "check_after_secs": 2}
    ))  # fmt: skip
    platform.on(
        "GET", "/2/media/upload",
        media("77", {"state": "in_progress", "check_after_secs": 3}),
        media("77", {"state": "succeeded"}),
    )  # fmt: skip
    platform.on("POST", "/2/tweets", tweet("t1"))
    content = Content(text="moves", image_url="https://cdn.test/dance.gif")
    progress = Progress()

    waits = []
    for _ in range(2):
        with pytest.raises(StillProcessing) as still:
            await publisher.publish(CREDS, content, progress)
        waits.append(still.value.after_seconds)
    await publisher.publish(CREDS, content, progress)

    assert waits == [2.0, 3.0]
    [init] = platform.sent("POST", "/2/media/upload/initialize")
    assert body(init) == {
        "media_type": "image/gif", "total_bytes": len(animation), "media_category": "tweet_gif",
    }  # fmt: skip
    [append] = platform.sent("POST", "/2/media/upload/77/append")
    assert parts(append) == {"segment_index": b"0", "media": animation}
    statuses = platform.sent("GET", "/2/media/upload")
    assert [dict(r.url.params) for r in statuses] == [{"command": "STATUS", "media_id": "77"}] * 2
    assert len(platform.sent("GET", "/dance.gif")) == 1  # downloaded once
    assert body(platform.sent("POST", "/2/tweets")[0])["media"] == {"media_ids": ["77"]}
    assert platform.sent("POST", "/2/media/upload") == []  # never the one-shot for a GIF


async def test_a_still_gif_is_a_tweet_image_through_the_chunked_flow(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/still.gif", image(gif(frames=1), "image/gif"))
    platform.on("POST", "/2/media/upload/initialize", media("78"))
    platform.on("POST", "/2/media/upload/78/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/78/finalize", media("78"))
    platform.on("POST", "/2/tweets", tweet("t1"))

    await publisher.publish(
        CREDS, Content(text="still", image_url="https://cdn.test/still.gif"), Progress()
    )

    [init] = platform.sent("POST", "/2/media/upload/initialize")
    assert body(init)["media_category"] == "tweet_image"
    assert platform.sent("GET", "/2/media/upload") == []  # finalize said nothing of processing


async def test_a_large_gif_is_appended_in_segments_of_at_most_5_mb(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    animation = gif(frames=2)
    big = animation[:-1] + comment_blocks(9 * 1024 * 1024) + b"\x3b"
    platform.on("GET", "/big.gif", image(big, "image/gif"))
    platform.on("POST", "/2/media/upload/initialize", media("79"))
    platform.on("POST", "/2/media/upload/79/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/79/finalize", media("79"))
    platform.on("POST", "/2/tweets", tweet("t1"))

    await publisher.publish(
        CREDS, Content(text="big", image_url="https://cdn.test/big.gif"), Progress()
    )

    appends = platform.sent("POST", "/2/media/upload/79/append")
    sizes = [len(parts(r)["media"]) for r in appends]
    assert [parts(r)["segment_index"] for r in appends] == [b"0", b"1", b"2"]
    assert max(sizes) <= 5 * 1024 * 1024
    assert b"".join(parts(r)["media"] for r in appends) == big


@pytest.mark.parametrize(
    ("name", "data", "content_type", "limit", "kind"),
    [
        ("big.jpg", jpeg(100, 100, pad=5 * 1024 * 1024 + 1), "image/jpeg",
         "still image up to 5 MB", ErrorKind.INVALID_CONTENT),
        # The download itself stops there: the image's failure, named as such.
        ("huge.gif", gif(frames=2)[:-1] + comment_blocks(15 * 1024 * 1024 + 1) + b"\x3b",
         "image/gif", "15 MiB", ErrorKind.IMAGE_UNAVAILABLE),
    ],
)  # fmt: skip
async def test_media_over_xs_limits_is_refused_before_any_upload(
    platform: FakePlatform,
    publisher: XPublisher,
    name: str,
    data: bytes,
    content_type: str,
    limit: str,
    kind: ErrorKind,
) -> None:
    platform.on("GET", f"/{name}", image(data, content_type))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(
            CREDS, Content(text="x", image_url=f"https://cdn.test/{name}"), Progress()
        )

    assert caught.value.kind is kind
    assert not caught.value.kind.retryable
    assert limit in caught.value.detail
    assert [r.url.path for r in platform.requests] == [f"/{name}"]


async def test_media_x_could_not_process_fails_with_xs_reason(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/bad.gif", image(gif(frames=2), "image/gif"))
    platform.on("POST", "/2/media/upload/initialize", media("80"))
    platform.on("POST", "/2/media/upload/80/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/80/finalize", media("80", {"state": "pending"}))
    platform.on("GET", "/2/media/upload", media("80", {
        "state": "failed", "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported"},
    }))  # fmt: skip
    content, progress = Content(text="x", image_url="https://cdn.test/bad.gif"), Progress()
    with pytest.raises(StillProcessing):
        await publisher.publish(CREDS, content, progress)

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, content, progress)

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert "Unsupported" in caught.value.detail
    assert platform.sent("POST", "/2/tweets") == []


async def test_media_still_processing_posts_nothing_and_keeps_the_upload_s_id(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/slow.gif", image(gif(frames=2), "image/gif"))
    platform.on("POST", "/2/media/upload/initialize", media("81"))
    platform.on("POST", "/2/media/upload/81/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/81/finalize", media("81", {"state": "pending"}))
    progress = Progress()

    with pytest.raises(StillProcessing) as still:
        await publisher.publish(
            CREDS, Content(text="x", image_url="https://cdn.test/slow.gif"), progress
        )

    assert still.value.after_seconds == 1.0  # X gave no check_after_secs
    assert progress.state == {"image_url": {"id": "81", "ready": False}}
    assert platform.sent("POST", "/2/tweets") == []


async def test_a_lost_answer_to_an_upload_is_transient_not_ambiguous(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/cat.jpg", image(jpeg(10, 10), "image/jpeg"))
    platform.on("POST", "/2/media/upload", httpx.ReadTimeout("lost"))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(
            CREDS, Content(text="x", image_url="https://cdn.test/cat.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.TRANSIENT


CREDITS_DEPLETED = {
    "type": "https://api.twitter.com/2/problems/credits", "title": "CreditsDepleted",
    "detail": "Your enrolled account [1] does not have any credits to fulfill this request.",
}  # fmt: skip


async def test_used_up_credits_are_their_own_kind_never_retried(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("POST", "/2/tweets", httpx.Response(402, json=CREDITS_DEPLETED))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(text="Hi"), Progress())

    error = caught.value
    assert error.kind is ErrorKind.CREDITS_EXHAUSTED
    assert error.platform_code == "CreditsDepleted"
    assert "buy credits" in error.detail
    assert not error.kind.retryable


async def test_used_up_credits_while_uploading_media_is_the_same_kind(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("GET", "/cat.jpg", image(jpeg(10, 10), "image/jpeg"))
    platform.on("POST", "/2/media/upload", httpx.Response(402, json=CREDITS_DEPLETED))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(
            CREDS, Content(text="x", image_url="https://cdn.test/cat.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.CREDITS_EXHAUSTED


REPLY_REFUSED = {
    "title": "Forbidden", "type": "about:blank", "status": 403,
    "detail": "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to.",
}  # fmt: skip


async def test_a_refused_reply_in_a_thread_keeps_the_tweets_out_and_is_never_retried(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("POST", "/2/tweets", tweet("t1"), httpx.Response(403, json=REPLY_REFUSED))
    progress = Progress()

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(thread=("one", "two")), progress)

    error = caught.value
    assert error.kind is ErrorKind.REPLY_FORBIDDEN
    assert "tweet 2 of the thread" in error.detail
    assert not error.kind.retryable
    assert progress.part_ids == ["t1"]


async def test_the_same_403_on_a_first_tweet_is_not_a_reply_refusal(
    platform: FakePlatform, publisher: XPublisher
) -> None:
    platform.on("POST", "/2/tweets", httpx.Response(403, json=REPLY_REFUSED))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(CREDS, Content(text="one"), Progress())

    assert caught.value.kind is ErrorKind.PLATFORM_ERROR


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
