"""Facebook Page and Instagram publishers and Graph's error model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress
from herald.platforms.meta import FacebookPublisher, InstagramPublisher, graph_error
from tests.fakes.platform_http import FakePlatform

GRAPH = "https://graph.facebook.test"
PAGE = Credentials("acc_fb", "facebook", "1010", "page-token", {"page_id": "1010"})
IG = Credentials("acc_ig", "instagram", "1789", "ig-token", {"username": "herald"})
QUOTA_OK = httpx.Response(
    200,
    json={"data": [{"config": {"quota_total": 100, "quota_duration": 86400}, "quota_usage": 3}]},
)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def status(code: str) -> httpx.Response:
    return httpx.Response(200, json={"status_code": code, "id": "c1"})


def graph_failure(code: int, subcode: int | None = None, http_status: int = 400) -> httpx.Response:
    error: dict[str, object] = {
        "message": f"(#{code}) failure", "type": "OAuthException", "code": code,
        "fbtrace_id": "AbC",
    }  # fmt: skip
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(http_status, json={"error": error})


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def facebook(platform: FakePlatform) -> AsyncIterator[FacebookPublisher]:
    client = platform.client()
    yield FacebookPublisher(client, graph_base=GRAPH, version="v24.0")
    await client.aclose()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def instagram(platform: FakePlatform, sleeps: Sleeps) -> AsyncIterator[InstagramPublisher]:
    client = platform.client()
    yield InstagramPublisher(
        client, graph_base=GRAPH, version="v24.0", sleep=sleeps, poll_interval=2.0, max_polls=4
    )
    await client.aclose()


# --- Facebook ------------------------------------------------------------------------------


async def test_a_page_post_goes_to_the_page_feed_with_the_page_token(
    platform: FakePlatform, facebook: FacebookPublisher
) -> None:
    platform.on("POST", "/v24.0/1010/feed", httpx.Response(200, json={"id": "1010_555"}))

    published = await facebook.publish(
        PAGE, Content(text="Hello", link="https://herald.test/a"), Progress()
    )

    [request] = platform.requests
    assert str(request.url) == f"{GRAPH}/v24.0/1010/feed"
    assert request.headers["authorization"] == "Bearer page-token"
    assert form(request) == {"message": "Hello", "link": "https://herald.test/a"}
    assert published.platform_post_id == "1010_555"
    assert published.url == "https://www.facebook.com/1010_555"


async def test_a_photo_post_goes_to_photos_and_keeps_the_feed_post_id(
    platform: FakePlatform, facebook: FacebookPublisher
) -> None:
    platform.on(
        "POST", "/v24.0/1010/photos", httpx.Response(200, json={"id": "777", "post_id": "1010_778"})
    )

    published = await facebook.publish(
        PAGE, Content(text="Look", image_url="https://cdn.test/p.jpg"), Progress()
    )

    assert form(platform.requests[0]) == {"url": "https://cdn.test/p.jpg", "caption": "Look"}
    assert published.platform_post_id == "1010_778"


GRAPH_ERRORS = [
    (190, None, ErrorKind.AUTH_REVOKED),
    (190, 463, ErrorKind.AUTH_REVOKED),  # expired
    (102, None, ErrorKind.AUTH_REVOKED),
    (200, None, ErrorKind.AUTH_REVOKED),  # permission missing: reconnect with the scope
    (4, None, ErrorKind.RATE_LIMITED),
    (17, None, ErrorKind.RATE_LIMITED),
    (32, None, ErrorKind.RATE_LIMITED),
    (613, None, ErrorKind.RATE_LIMITED),
    (80001, None, ErrorKind.RATE_LIMITED),
    (80002, None, ErrorKind.RATE_LIMITED),
    (80004, None, ErrorKind.RATE_LIMITED),
    (9, 2207042, ErrorKind.RATE_LIMITED),
    (506, None, ErrorKind.DUPLICATE),
    (368, None, ErrorKind.POLICY_BLOCKED),  # temporarily blocked: retry later, not a duplicate
    (341, None, ErrorKind.RATE_LIMITED),  # application limit: wait and retry
    (4, 2207051, ErrorKind.SPAM_SUSPECTED),  # suspected spam is not a rate limit
    (9007, 2207027, ErrorKind.TRANSIENT),  # the container is not ready yet
    (-2, 2207027, ErrorKind.TRANSIENT),
    (100, None, ErrorKind.INVALID_CONTENT),
    (36000, 2207004, ErrorKind.INVALID_CONTENT),
    (100, 33, ErrorKind.PLATFORM_ERROR),
    (1, None, ErrorKind.TRANSIENT),
    (2, None, ErrorKind.TRANSIENT),
    (-1, 2207001, ErrorKind.TRANSIENT),
    (3, None, ErrorKind.PLATFORM_ERROR),
]


@pytest.mark.parametrize(("code", "subcode", "kind"), GRAPH_ERRORS)
def test_graph_error_codes_map_to_a_kind(code: int, subcode: int | None, kind: ErrorKind) -> None:
    error = graph_error("facebook", graph_failure(code, subcode))

    assert error.kind is kind
    assert error.platform_code == (f"{code}/{subcode}" if subcode else str(code))


def test_rate_limit_retry_after_comes_from_the_business_use_case_header() -> None:
    usage = {"1010": [{"type": "pages", "call_count": 100, "total_cputime": 10, "total_time": 10,
                       "estimated_time_to_regain_access": 7}]}  # fmt: skip
    response = graph_failure(80001)
    response.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    response.headers["X-App-Usage"] = json.dumps({"call_count": 100, "total_time": 20})

    error = graph_error("facebook", response)

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == 7 * 60


def test_a_policy_block_waits_before_the_next_try_and_says_so() -> None:
    error = graph_error("facebook", graph_failure(368))

    assert error.kind.retryable
    assert error.retry_after == 600
    assert "temporarily blocked by Meta" in error.detail


def test_suspected_spam_is_never_retried_and_says_what_to_do() -> None:
    error = graph_error("instagram", graph_failure(4, 2207051))

    assert not error.kind.retryable
    assert error.platform_code == "4/2207051"
    assert "tell Meta" in error.detail


def test_an_application_limit_waits_as_long_as_the_usage_header_says() -> None:
    response = graph_failure(341)
    response.headers["X-App-Usage"] = json.dumps(
        {"call_count": 100, "estimated_time_to_regain_access": 3}
    )

    error = graph_error("facebook", response)

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == 180


def test_a_subcode_sent_as_a_string_is_read_as_the_number() -> None:
    response = httpx.Response(400, json={"error": {"code": "4", "error_subcode": "2207051"}})

    assert graph_error("instagram", response).kind is ErrorKind.SPAM_SUSPECTED


def test_a_body_that_is_not_graphs_falls_back_to_the_status() -> None:
    assert graph_error("facebook", httpx.Response(502, text="<html>")).kind is ErrorKind.TRANSIENT


async def test_a_meta_duplicate_is_refused_as_duplicate(
    platform: FakePlatform, facebook: FacebookPublisher
) -> None:
    platform.on("POST", "/v24.0/1010/feed", graph_failure(506))

    with pytest.raises(PlatformError) as caught:
        await facebook.publish(PAGE, Content(text="Hello"), Progress())

    assert caught.value.kind is ErrorKind.DUPLICATE


async def test_facebook_find_recent_matches_the_message(
    platform: FakePlatform, facebook: FacebookPublisher
) -> None:
    platform.on("GET", "/v24.0/1010/posts", httpx.Response(200, json={"data": [
        {"id": "1010_1", "message": "other"},
        {"id": "1010_2", "message": "Hello", "permalink_url": "https://www.facebook.com/p/2"},
    ]}))  # fmt: skip
    since = datetime(2026, 11, 25, 12, tzinfo=UTC)

    found = await facebook.find_recent(PAGE, Content(text="Hello"), since)

    assert found is not None
    assert found.platform_post_id == "1010_2"
    assert found.url == "https://www.facebook.com/p/2"
    assert platform.requests[0].url.params["since"] == str(int(since.timestamp()))


# --- Instagram -----------------------------------------------------------------------------


def happy_instagram(platform: FakePlatform, *statuses: str) -> None:
    platform.on("GET", "/v24.0/1789/content_publishing_limit", QUOTA_OK)
    platform.on("POST", "/v24.0/1789/media", httpx.Response(200, json={"id": "c1"}))
    platform.on("GET", "/v24.0/c1", *[status(s) for s in statuses])
    platform.on("POST", "/v24.0/1789/media_publish", httpx.Response(200, json={"id": "m1"}))
    platform.on("GET", "/v24.0/m1", httpx.Response(200, json={
        "permalink": "https://www.instagram.com/p/Abc/", "id": "m1"
    }))  # fmt: skip


async def test_instagram_checks_quota_creates_a_container_polls_then_publishes(
    platform: FakePlatform, instagram: InstagramPublisher, sleeps: Sleeps
) -> None:
    happy_instagram(platform, "IN_PROGRESS", "IN_PROGRESS", "FINISHED")

    published = await instagram.publish(
        IG, Content(text="Caption #one", image_url="https://cdn.test/p.jpg"), Progress()
    )

    paths = [(r.method, r.url.path) for r in platform.requests]
    assert paths == [
        ("GET", "/v24.0/1789/content_publishing_limit"),
        ("POST", "/v24.0/1789/media"),
        ("GET", "/v24.0/c1"),
        ("GET", "/v24.0/c1"),
        ("GET", "/v24.0/c1"),
        ("POST", "/v24.0/1789/media_publish"),
        ("GET", "/v24.0/m1"),
    ]
    assert platform.requests[0].url.params["fields"] == "config,quota_usage"
    assert form(platform.requests[1]) == {
        "image_url": "https://cdn.test/p.jpg",
        "caption": "Caption #one",
    }
    assert platform.requests[2].url.params["fields"].startswith("status_code")
    assert form(platform.requests[5]) == {"creation_id": "c1"}
    assert all(r.headers["authorization"] == "Bearer ig-token" for r in platform.requests)
    assert sleeps.calls == [2.0, 2.0]
    assert published.platform_post_id == "m1"
    assert published.url == "https://www.instagram.com/p/Abc/"


async def test_instagram_refuses_before_posting_when_the_quota_is_used_up(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    platform.on("GET", "/v24.0/1789/content_publishing_limit", httpx.Response(200, json={
        "data": [{"config": {"quota_total": 50, "quota_duration": 86400}, "quota_usage": 50}]
    }))  # fmt: skip

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(
            IG, Content(text="c", image_url="https://cdn.test/p.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after is not None
    assert platform.sent("POST", "/v24.0/1789/media") == []


async def test_publishing_too_early_is_asked_again_until_the_container_is_ready(
    platform: FakePlatform, instagram: InstagramPublisher, sleeps: Sleeps
) -> None:
    happy_instagram(platform, "FINISHED")
    platform.on(
        "POST", "/v24.0/1789/media_publish",
        graph_failure(9007, 2207027),
        httpx.Response(200, json={"id": "m1"}),
    )  # fmt: skip

    published = await instagram.publish(
        IG, Content(text="c", image_url="https://cdn.test/p.jpg"), Progress()
    )

    assert published.platform_post_id == "m1"
    assert len(platform.sent("POST", "/v24.0/1789/media_publish")) == 2
    assert sleeps.calls == [2.0]


async def test_a_container_in_error_is_invalid_content(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    happy_instagram(platform, "ERROR")

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(
            IG, Content(text="c", image_url="https://cdn.test/p.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert platform.sent("POST", "/v24.0/1789/media_publish") == []


async def test_an_expired_container_is_a_platform_error(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    happy_instagram(platform, "EXPIRED")

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(
            IG, Content(text="c", image_url="https://cdn.test/p.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.PLATFORM_ERROR


async def test_polling_is_bounded_and_a_slow_container_is_transient(
    platform: FakePlatform, instagram: InstagramPublisher, sleeps: Sleeps
) -> None:
    happy_instagram(platform, "IN_PROGRESS")

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(
            IG, Content(text="c", image_url="https://cdn.test/p.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.TRANSIENT
    assert len(platform.sent("GET", "/v24.0/c1")) == 4
    assert len(sleeps.calls) == 3
    assert platform.sent("POST", "/v24.0/1789/media_publish") == []


async def test_instagram_without_an_image_is_refused_without_a_call(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    with pytest.raises(PlatformError) as caught:
        await instagram.publish(IG, Content(text="c"), Progress())

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert platform.requests == []


async def test_a_confirmed_instagram_post_is_not_published_again(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    happy_instagram(platform, "FINISHED")

    published = await instagram.publish(
        IG, Content(text="c", image_url="https://cdn.test/p.jpg"), Progress(part_ids=["m1"])
    )

    assert published.platform_post_id == "m1"
    assert platform.sent("POST", "/v24.0/1789/media") == []


async def test_instagram_find_recent_stops_at_the_first_media_older_than_the_window(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    paging = {"cursors": {"after": "c2"}, "next": "https://graph.test/v24.0/1789/media?after=c2"}
    platform.on(
        "GET",
        "/v24.0/1789/media",
        httpx.Response(200, json={"data": [
            {"id": "m9", "caption": "other", "timestamp": "2026-11-25T12:00:09+0000"},
            {"id": "m1", "caption": "c", "timestamp": "2026-11-25T11:59:00+0000"},
        ], "paging": paging}),
        httpx.Response(500),  # the next page is never asked for
    )  # fmt: skip

    found = await instagram.find_recent(
        IG, Content(text="c", image_url="https://cdn.test/p.jpg"),
        datetime(2026, 11, 25, 12, tzinfo=UTC),
    )  # fmt: skip

    assert found is None
    assert len(platform.requests) == 1


async def test_instagram_find_recent_matches_caption_after_since(
    platform: FakePlatform, instagram: InstagramPublisher
) -> None:
    # Newest first, as Graph lists media.
    platform.on("GET", "/v24.0/1789/media", httpx.Response(200, json={"data": [
        {"id": "m2", "caption": "c", "timestamp": "2026-11-25T12:00:05+0000",
         "permalink": "https://www.instagram.com/p/Xyz/"},
        {"id": "m0", "caption": "c", "timestamp": "2026-11-25T11:00:00+0000"},
    ]}))  # fmt: skip

    found = await instagram.find_recent(
        IG, Content(text="c", image_url="https://cdn.test/p.jpg"),
        datetime(2026, 11, 25, 12, tzinfo=UTC),
    )  # fmt: skip

    assert found is not None
    assert found.platform_post_id == "m2"
    assert found.url == "https://www.instagram.com/p/Xyz/"
