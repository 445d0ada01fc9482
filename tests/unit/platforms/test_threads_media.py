"""Threads posts with uploaded files: links Threads fetches, carousels, and a reply chain
whose parts carry their own media, each container resumed from saved state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, Progress, StillProcessing
from herald.platforms.threads import ThreadsPublisher
from tests.fakes.memory_media import MemoryFiles
from tests.fakes.platform_http import FakePlatform

GRAPH = "https://graph.threads.test"
USER = Credentials("acc_th", "threads", "77", "th-token", {"username": "herald"})
LIMIT = httpx.Response(200, json={"data": [{
    "quota_usage": 1, "config": {"quota_total": 250, "quota_duration": 86400},
    "reply_quota_usage": 0, "reply_config": {"quota_total": 1000, "quota_duration": 86400},
}]})  # fmt: skip


def form(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


def saving() -> Progress:
    async def save(state: dict[str, Any]) -> None:
        return None

    async def record(ids: list[str]) -> None:
        return None

    return Progress(save=save, record=record)


def status(code: str) -> httpx.Response:
    return httpx.Response(200, json={"status": code})


@pytest.fixture
def platform() -> FakePlatform:
    fake = FakePlatform()
    fake.on("GET", "/v1.0/77/threads_publishing_limit", LIMIT)
    fake.on("GET", "/v1.0/t1", httpx.Response(200, json={"permalink": "https://th.test/1"}))
    return fake


@pytest.fixture
async def threads(platform: FakePlatform) -> AsyncIterator[ThreadsPublisher]:
    client = platform.client()
    yield ThreadsPublisher(client, graph_base=GRAPH, version="v1.0", url_seconds=900)
    await client.aclose()


async def test_a_carousel_of_uploaded_files_is_items_by_link_then_a_carousel(
    threads: ThreadsPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    items = (files.add("media_1", b"a", alt_text="Loaf"),
             files.add("media_2", b"b", "video", "video/mp4"))  # fmt: skip
    platform.on("POST", "/v1.0/77/threads",
                *[httpx.Response(200, json={"id": i}) for i in ("c1", "c2", "c3")])  # fmt: skip
    for node in ("c1", "c2", "c3"):
        platform.on("GET", f"/v1.0/{node}", status("FINISHED"))
    platform.on("POST", "/v1.0/77/threads_publish", httpx.Response(200, json={"id": "t1"}))

    published = await threads.publish(USER, Content("Bake", attachments=items), saving())

    assert published.platform_post_id == "t1"
    made = [form(r) for r in platform.sent("POST", "/v1.0/77/threads")]
    assert made[0]["media_type"] == "IMAGE"
    assert made[0]["alt_text"] == "Loaf"
    assert made[0]["image_url"].startswith("https://media.example.test/media/biz/media_1")
    assert made[1]["media_type"] == "VIDEO"
    assert made[1]["is_carousel_item"] == "true"
    assert made[2] == {"media_type": "CAROUSEL", "children": "c1,c2", "text": "Bake"}
    assert files.links == [("media/biz/media_1", 900), ("media/biz/media_2", 900)]


async def test_a_video_still_processing_comes_back_and_is_not_made_again(
    threads: ThreadsPublisher, platform: FakePlatform
) -> None:
    video = MemoryFiles().add("media_v", b"v", "video", "video/mp4")
    platform.on("POST", "/v1.0/77/threads", httpx.Response(200, json={"id": "c1"}))
    platform.on("GET", "/v1.0/c1", status("IN_PROGRESS"), status("FINISHED"))
    platform.on("POST", "/v1.0/77/threads_publish", httpx.Response(200, json={"id": "t1"}))
    progress, content = saving(), Content("Clip", attachments=(video,))

    with pytest.raises(StillProcessing):
        await threads.publish(USER, content, progress)
    await threads.publish(USER, content, progress)

    assert len(platform.sent("POST", "/v1.0/77/threads")) == 1
    assert len(platform.sent("POST", "/v1.0/77/threads_publish")) == 1


async def test_each_part_of_a_reply_chain_carries_its_own_media(
    threads: ThreadsPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    first, second = files.add("media_1", b"a"), files.add("media_2", b"b", part=1)
    platform.on("POST", "/v1.0/77/threads",
                *[httpx.Response(200, json={"id": i}) for i in ("c1", "c2")])  # fmt: skip
    for node in ("c1", "c2"):
        platform.on("GET", f"/v1.0/{node}", status("FINISHED"))
    published_ids = (httpx.Response(200, json={"id": "t1"}), httpx.Response(200, json={"id": "t2"}))
    platform.on("POST", "/v1.0/77/threads_publish", *published_ids)

    published = await threads.publish(
        USER, Content(thread=("One", "Two"), attachments=(first, second)), saving()
    )

    assert published.part_ids == ("t1", "t2")
    made = [form(r) for r in platform.sent("POST", "/v1.0/77/threads")]
    assert made[0]["text"] == "One"
    assert "reply_to_id" not in made[0]
    assert made[1]["text"] == "Two"
    assert made[1]["reply_to_id"] == "t1"
    assert made[1]["image_url"].startswith("https://media.example.test/media/biz/media_2")
