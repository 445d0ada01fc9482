"""LinkedIn publisher: the Posts API request shape, images, errors and reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress
from herald.platforms.images import ImageFetcher
from herald.platforms.linkedin import LinkedInPublisher, escape_little_text
from tests.fakes.platform_http import FakePlatform, body, resolves_public

API = "https://api.linkedin.test"
NOW = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
MEMBER = Credentials(
    "acc_li", "linkedin", "urn:li:person:abc", "li-token", {"author_urn": "urn:li:person:abc"}
)
ORG = Credentials(
    "acc_org", "linkedin", "urn:li:organization:42", "li-token",
    {"author_urn": "urn:li:organization:42"},
)  # fmt: skip
CREATED = httpx.Response(201, headers={"x-restli-id": "urn:li:share:7001"})


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def publisher(platform: FakePlatform) -> AsyncIterator[LinkedInPublisher]:
    client = platform.client()
    images = ImageFetcher(client, resolve=resolves_public)
    yield LinkedInPublisher(client, api_base=API, version="202607", now=lambda: NOW, images=images)
    await client.aclose()


async def test_a_text_post_is_one_documented_posts_api_call(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", CREATED)

    published = await publisher.publish(MEMBER, Content(text="Hello"), Progress())

    [request] = platform.requests
    assert str(request.url) == f"{API}/rest/posts"
    assert request.headers["authorization"] == "Bearer li-token"
    assert request.headers["linkedin-version"] == "202607"
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {
        "author": "urn:li:person:abc",
        "commentary": "Hello",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert published.platform_post_id == "urn:li:share:7001"
    assert published.url == "https://www.linkedin.com/feed/update/urn:li:share:7001/"


async def test_an_organisation_posts_as_its_own_urn(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", CREATED)

    await publisher.publish(ORG, Content(text="We are hiring"), Progress())

    assert body(platform.requests[0])["author"] == "urn:li:organization:42"


async def test_the_post_urn_is_confirmed_the_moment_linkedin_answers(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", CREATED)
    recorded: list[list[str]] = []

    async def record(ids: list[str]) -> None:
        recorded.append(ids)

    await publisher.publish(MEMBER, Content(text="Hi"), Progress(record=record))

    assert recorded == [["urn:li:share:7001"]]


async def test_reserved_little_text_characters_are_escaped_so_the_post_is_not_cut_short(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", CREATED)

    await publisher.publish(MEMBER, Content(text="Q4 (final) @team [draft] a_b"), Progress())

    assert body(platform.requests[0])["commentary"] == r"Q4 \(final\) \@team \[draft\] a\_b"


@pytest.mark.parametrize("char", list("\\|{}@[]()<>#*_~"))
def test_every_reserved_character_is_escaped(char: str) -> None:
    assert escape_little_text(f"a{char}b") == f"a\\{char}b"


def test_urls_and_hashtags_stay_linkable() -> None:
    text = "Read https://ex.com/a_b#top now #growth"
    assert escape_little_text(text) == text


async def test_an_image_is_initialised_uploaded_and_referenced_by_urn(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    upload_url = "https://www.linkedin-uploads.test/upload/abc"
    platform.on(
        "POST", "/rest/images",
        httpx.Response(200, json={"value": {
            "uploadUrl": upload_url, "image": "urn:li:image:C4D", "uploadUrlExpiresAt": 1,
        }}),
    )  # fmt: skip
    platform.on(
        "GET",
        "/pic.png",
        httpx.Response(200, content=b"PNG", headers={"content-type": "image/png"}),
    )
    platform.on("PUT", "/upload/abc", httpx.Response(201))
    platform.on("POST", "/rest/posts", CREATED)

    await publisher.publish(
        MEMBER, Content(text="Look", image_url="https://cdn.test/pic.png"), Progress()
    )

    [init] = platform.sent("POST", "/rest/images")
    assert init.url.params["action"] == "initializeUpload"
    assert body(init) == {"initializeUploadRequest": {"owner": "urn:li:person:abc"}}
    [put] = platform.sent("PUT", "/upload/abc")
    assert put.content == b"PNG"
    assert put.headers["authorization"] == "Bearer li-token"
    [post] = platform.sent("POST", "/rest/posts")
    assert body(post)["content"] == {"media": {"id": "urn:li:image:C4D"}}


async def test_a_retry_after_the_post_was_confirmed_does_not_post_again(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    published = await publisher.publish(
        MEMBER, Content(text="Hi"), Progress(part_ids=["urn:li:share:1"])
    )

    assert platform.requests == []
    assert published.platform_post_id == "urn:li:share:1"


ERRORS = [
    (
        422,
        {"message": "Content is a duplicate of urn:li:share:1", "code": "DUPLICATE_POST",
         "status": 422},
        ErrorKind.DUPLICATE,
    ),
    (401, {"message": "Invalid access token", "serviceErrorCode": 65600, "status": 401},
     ErrorKind.AUTH_REVOKED),
    (429, {"message": "Resource level throttle limit", "status": 429}, ErrorKind.RATE_LIMITED),
    (400, {"message": "commentary too long", "serviceErrorCode": 100, "status": 400},
     ErrorKind.INVALID_CONTENT),
    (403, {"message": "Not enough permissions", "serviceErrorCode": 100, "status": 403},
     ErrorKind.PLATFORM_ERROR),
    (500, {"message": "Internal Server Error", "status": 500}, ErrorKind.TRANSIENT),
    (503, {}, ErrorKind.TRANSIENT),
    (426, {"status": 426, "code": "NONEXISTENT_VERSION",
           "message": "Requested version 20250401 is not active"}, ErrorKind.PLATFORM_CONTRACT),
]  # fmt: skip


@pytest.mark.parametrize(("status", "payload", "kind"), ERRORS)
async def test_documented_errors_map_to_a_kind(
    platform: FakePlatform,
    publisher: LinkedInPublisher,
    status: int,
    payload: dict[str, object],
    kind: ErrorKind,
) -> None:
    platform.on("POST", "/rest/posts", httpx.Response(status, json=payload))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="Hi"), Progress())

    assert caught.value.kind is kind
    assert caught.value.status == status


async def test_a_429_without_retry_after_waits_for_the_daily_reset_at_midnight_utc(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", httpx.Response(429, json={"status": 429}))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="Hi"), Progress())

    assert caught.value.retry_after == 2 * 3600  # 22:00 -> midnight


async def test_a_timeout_after_sending_is_ambiguous(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", httpx.ReadTimeout("read timed out"))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="Hi"), Progress())

    assert caught.value.kind is ErrorKind.AMBIGUOUS


async def test_a_refused_connection_is_transient(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", httpx.ConnectError("refused"))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="Hi"), Progress())

    assert caught.value.kind is ErrorKind.TRANSIENT


async def test_a_201_without_the_urn_header_is_ambiguous(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", httpx.Response(201))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="Hi"), Progress())

    assert caught.value.kind is ErrorKind.AMBIGUOUS


async def test_find_recent_matches_the_authors_post_by_text_and_time(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    since = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    ms = int(since.timestamp() * 1000)
    platform.on("GET", "/rest/posts", httpx.Response(200, json={"elements": [
        {"id": "urn:li:share:old", "commentary": r"Hi \(there\)", "publishedAt": ms - 60_000},
        {"id": "urn:li:share:9", "commentary": r"Hi \(there\)", "publishedAt": ms + 5_000},
    ]}))  # fmt: skip

    found = await publisher.find_recent(MEMBER, Content(text="Hi (there)"), since)

    assert found is not None
    assert found.platform_post_id == "urn:li:share:9"
    [request] = platform.requests
    assert request.url.params["q"] == "author"
    assert request.url.params["author"] == "urn:li:person:abc"
    assert "author=urn%3Ali%3Aperson%3Aabc" in str(request.url)
    assert request.headers["x-restli-method"] == "FINDER"


async def test_find_recent_returns_none_when_nothing_matches(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("GET", "/rest/posts", httpx.Response(200, json={"elements": []}))

    assert await publisher.find_recent(MEMBER, Content(text="Hi"), NOW) is None


async def test_find_recent_pages_back_until_the_posts_are_older_than_the_window(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    since = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    ms = int(since.timestamp() * 1000)
    newer = [
        {"id": f"urn:li:share:{900 + i}", "commentary": f"other {i}", "publishedAt": ms + 60_000}
        for i in range(50)
    ]
    platform.on(
        "GET",
        "/rest/posts",
        httpx.Response(200, json={"elements": newer}),
        httpx.Response(200, json={"elements": [
            {"id": "urn:li:share:7", "commentary": "mine", "publishedAt": ms + 1_000},
            {"id": "urn:li:share:1", "commentary": "older", "publishedAt": ms - 1_000},
        ]}),
        httpx.Response(500),  # never asked: the second page reached past the window
    )  # fmt: skip

    found = await publisher.find_recent(MEMBER, Content(text="mine"), since)

    assert found is not None
    assert found.platform_post_id == "urn:li:share:7"
    assert [r.url.params["start"] for r in platform.requests] == ["0", "50"]


async def test_a_426_names_the_version_and_the_setting_and_is_never_retried(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/posts", httpx.Response(426, json={
        "status": 426, "code": "NONEXISTENT_VERSION",
        "message": "Requested version 202607 is not active",
    }))  # fmt: skip

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="Hi"), Progress())

    error = caught.value
    assert error.platform_code == "NONEXISTENT_VERSION"
    assert "LinkedIn-Version 202607" in error.detail
    assert "LINKEDIN_VERSION" in error.detail
    assert not error.kind.retryable
    assert error.kind.needs_operator
    assert len(platform.requests) == 1


async def test_a_426_while_initialising_an_image_upload_is_the_same_contract_failure(
    platform: FakePlatform, publisher: LinkedInPublisher
) -> None:
    platform.on("POST", "/rest/images", httpx.Response(426, json={
        "status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version is not active",
    }))  # fmt: skip

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(
            MEMBER, Content(text="Hi", image_url="https://cdn.test/a.jpg"), Progress()
        )

    assert caught.value.kind is ErrorKind.PLATFORM_CONTRACT
    assert platform.sent("POST", "/rest/posts") == []
