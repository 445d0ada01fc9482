"""Instagram posts with uploaded files: images by a short-lived link, carousels, Reels and
Stories streamed to rupload, and containers that come back later while they process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, StillProcessing
from herald.platforms.meta import InstagramPublisher
from tests.fakes.memory_media import MemoryFiles
from tests.fakes.platform_http import FakePlatform

GRAPH = "https://graph.facebook.test"
RUPLOAD = "https://rupload.facebook.test"
IG = Credentials("acc_ig", "instagram", "1789", "ig-token", {"username": "herald"})
QUOTA_OK = httpx.Response(
    200,
    json={"data": [{"config": {"quota_total": 100, "quota_duration": 86400}, "quota_usage": 3}]},
)


def form(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


def saving() -> tuple[Progress, list[dict[str, Any]]]:
    saved: list[dict[str, Any]] = []

    async def save(state: dict[str, Any]) -> None:
        saved.append(state)

    return Progress(save=save), saved


def status(code: str) -> httpx.Response:
    return httpx.Response(200, json={"status_code": code, "status": code})


@pytest.fixture
def platform() -> FakePlatform:
    fake = FakePlatform()
    fake.on("GET", "/v27.0/1789/content_publishing_limit", QUOTA_OK)
    fake.on("GET", "/v27.0/m1", httpx.Response(200, json={"permalink": "https://ig.test/p/1"}))
    fake.on("POST", "/v27.0/1789/media_publish", httpx.Response(200, json={"id": "m1"}))
    return fake


@pytest.fixture
async def instagram(platform: FakePlatform) -> AsyncIterator[InstagramPublisher]:
    client = platform.client()
    yield InstagramPublisher(
        client, graph_base=GRAPH, version="v27.0", rupload_base=RUPLOAD, url_seconds=900
    )
    await client.aclose()


def containers(platform: FakePlatform, *ids: str) -> None:
    platform.on("POST", "/v27.0/1789/media",
                *[httpx.Response(200, json={"id": i}) for i in ids])  # fmt: skip


async def test_an_image_is_given_as_a_short_lived_link_with_its_alt_text(
    instagram: InstagramPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    image = files.add("media_1", b"jpeg", alt_text="A loaf on a board")
    containers(platform, "c1")
    platform.on("GET", "/v27.0/c1", status("FINISHED"))

    published = await instagram.publish(IG, Content("Fresh", attachments=(image,)), saving()[0])

    assert published.platform_post_id == "m1"
    created = form(platform.sent("POST", "/v27.0/1789/media")[0])
    assert created["image_url"].startswith("https://media.example.test/media/biz/media_1")
    assert files.links == [("media/biz/media_1", 900)]
    assert created["alt_text"] == "A loaf on a board"
    assert created["caption"] == "Fresh"
    assert form(platform.sent("POST", "/v27.0/1789/media_publish")[0]) == {"creation_id": "c1"}


async def test_a_carousel_makes_item_containers_then_one_carousel_container(
    instagram: InstagramPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    items = (files.add("media_1", b"a"), files.add("media_2", b"b"))
    containers(platform, "c1", "c2", "c3")
    for node in ("c1", "c2", "c3"):
        platform.on("GET", f"/v27.0/{node}", status("FINISHED"))

    await instagram.publish(IG, Content("Two loaves", attachments=items), saving()[0])

    made = [form(r) for r in platform.sent("POST", "/v27.0/1789/media")]
    assert [m.get("is_carousel_item") for m in made[:2]] == ["true", "true"]
    assert "caption" not in made[0]
    assert made[2] == {"media_type": "CAROUSEL", "children": "c1,c2", "caption": "Two loaves"}
    assert form(platform.sent("POST", "/v27.0/1789/media_publish")[0]) == {"creation_id": "c3"}


async def test_a_reel_is_streamed_to_rupload_and_comes_back_while_in_progress(
    instagram: InstagramPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    video = files.add("media_v", b"v" * 20, "video", "video/mp4", duration_ms=9000)
    containers(platform, "c1")
    platform.on("POST", "/ig-api-upload/v27.0/c1", httpx.Response(200, json={"success": True}))
    platform.on("GET", "/v27.0/c1", status("IN_PROGRESS"), status("FINISHED"))
    progress, saved = saving()
    content = Content("Watch", attachments=(video,))

    with pytest.raises(StillProcessing):
        await instagram.publish(IG, content, progress)
    published = await instagram.publish(IG, content, progress)  # the message came back

    assert published.platform_post_id == "m1"
    made = platform.sent("POST", "/v27.0/1789/media")
    assert len(made) == 1  # resumed from the saved container
    assert form(made[0]) == {"media_type": "REELS", "upload_type": "resumable", "caption": "Watch"}
    upload = platform.sent("POST", "/ig-api-upload/v27.0/c1")
    assert len(upload) == 1
    assert upload[0].url.host == "rupload.facebook.test"
    assert upload[0].headers["authorization"] == "OAuth ig-token"
    assert upload[0].headers["offset"] == "0"
    assert upload[0].headers["file_size"] == "20"
    assert upload[0].content == b"v" * 20
    assert saved[0] == {"children": ["c1"]}
    assert saved[1]["uploaded"] == ["c1"]
    assert len(platform.sent("POST", "/v27.0/1789/media_publish")) == 1


async def test_a_story_is_a_stories_container_without_caption_or_alt_text(
    instagram: InstagramPublisher, platform: FakePlatform
) -> None:
    image = MemoryFiles().add("media_1", b"jpeg", alt_text="ignored on stories")
    containers(platform, "c1")
    platform.on("GET", "/v27.0/c1", status("FINISHED"))

    await instagram.publish(IG, Content("x", attachments=(image,), story=True), saving()[0])

    created = form(platform.sent("POST", "/v27.0/1789/media")[0])
    assert created["media_type"] == "STORIES"
    assert "caption" not in created
    assert "alt_text" not in created


async def test_a_container_in_error_fails_as_invalid_content(
    instagram: InstagramPublisher, platform: FakePlatform
) -> None:
    image = MemoryFiles().add("media_1", b"jpeg")
    containers(platform, "c1")
    platform.on("GET", "/v27.0/c1", status("ERROR"))

    with pytest.raises(PlatformError) as caught:
        await instagram.publish(IG, Content("x", attachments=(image,)), saving()[0])

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert platform.sent("POST", "/v27.0/1789/media_publish") == []
