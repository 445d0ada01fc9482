"""Facebook Page posts with uploaded files: unpublished photos then one feed post, and the
resumable video upload on graph-video with processing that comes back later."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.accounts import Credentials
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, StillProcessing
from herald.platforms.meta import FacebookPublisher
from tests.fakes.memory_media import MemoryFiles
from tests.fakes.platform_http import FakePlatform

GRAPH = "https://graph.facebook.test"
VIDEO = "https://graph-video.facebook.test"
PAGE = Credentials("acc_fb", "facebook", "1010", "page-token", {"page_id": "1010"})


def saving() -> tuple[Progress, list[dict[str, Any]]]:
    saved: list[dict[str, Any]] = []

    async def save(state: dict[str, Any]) -> None:
        saved.append(state)

    return Progress(save=save), saved


def multipart(request: httpx.Request) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    out: dict[str, bytes] = {}
    for chunk in request.content.split(b"--" + boundary):
        head, _, value = chunk.partition(b"\r\n\r\n")
        if b'name="' not in head:
            continue
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        out[name] = value.removesuffix(b"\r\n")
    return out


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def facebook(platform: FakePlatform) -> AsyncIterator[FacebookPublisher]:
    client = platform.client()
    yield FacebookPublisher(client, graph_base=GRAPH, version="v27.0", video_base=VIDEO)
    await client.aclose()


async def test_photos_are_uploaded_unpublished_then_posted_together_with_their_alt_text(
    facebook: FacebookPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    one = files.add("media_1", b"\xff\xd8jpeg-one", alt_text="A loaf")
    two = files.add("media_2", b"\x89PNG-two", content_type="image/png")
    platform.on("POST", "/v27.0/1010/photos", httpx.Response(200, json={"id": "p1"}),
                httpx.Response(200, json={"id": "p2"}))  # fmt: skip
    platform.on("POST", "/v27.0/1010/feed", httpx.Response(200, json={"id": "1010_77"}))
    progress, saved = saving()

    published = await facebook.publish(PAGE, Content("Fresh", attachments=(one, two)), progress)

    assert published.platform_post_id == "1010_77"
    photos = [multipart(r) for r in platform.sent("POST", "/v27.0/1010/photos")]
    assert [p["source"] for p in photos] == [b"\xff\xd8jpeg-one", b"\x89PNG-two"]
    assert all(p["published"] == b"false" for p in photos)
    assert photos[0]["alt_text_custom"] == b"A loaf"
    assert "alt_text_custom" not in photos[1]
    feed = dict(httpx.QueryParams(platform.sent("POST", "/v27.0/1010/feed")[0].content.decode()))
    assert json.loads(feed["attached_media[0]"]) == {"media_fbid": "p1"}
    assert json.loads(feed["attached_media[1]"]) == {"media_fbid": "p2"}
    assert feed["message"] == "Fresh"
    assert saved[-1] == {"photos": ["p1", "p2"], "posting": True}


async def test_a_resumed_photo_post_uploads_only_the_photos_not_yet_there(
    facebook: FacebookPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    one, two = files.add("media_1", b"one"), files.add("media_2", b"two")
    platform.on("POST", "/v27.0/1010/photos", httpx.Response(200, json={"id": "p2"}))
    platform.on("POST", "/v27.0/1010/feed", httpx.Response(200, json={"id": "1010_78"}))
    progress, _ = saving()
    progress.state = {"photos": ["p1"]}

    await facebook.publish(PAGE, Content("Again", attachments=(one, two)), progress)

    assert [multipart(r)["source"] for r in platform.sent("POST", "/v27.0/1010/photos")] == [b"two"]


def video_platform(platform: FakePlatform, *statuses: str) -> None:
    def videos(request: httpx.Request) -> httpx.Response:
        if b"upload_phase=start" in request.content:
            given = dict(httpx.QueryParams(request.content.decode()))
            assert given["file_size"] == "10"
            return httpx.Response(200, json={"upload_session_id": "s1", "video_id": "v1",
                                             "start_offset": "0", "end_offset": "6"})  # fmt: skip
        if b"finish" in request.content:
            return httpx.Response(200, json={"success": True})
        parts = multipart(request)
        start = int(parts["start_offset"])
        end = start + len(parts["video_file_chunk"])
        return httpx.Response(
            200, json={"start_offset": str(end), "end_offset": str(min(10, end + 6))}
        )

    platform.on("POST", "/v27.0/1010/videos", videos)
    platform.on(
        "GET",
        "/v27.0/v1",
        *[httpx.Response(200, json={"status": {"video_status": s}, "id": "v1"}) for s in statuses],
    )


async def test_a_video_is_sent_in_the_ranges_facebook_names_then_comes_back_while_processing(
    facebook: FacebookPublisher, platform: FakePlatform
) -> None:
    files = MemoryFiles()
    video = files.add("media_v", b"0123456789", "video", "video/mp4", duration_ms=5000)
    video_platform(platform, "processing", "ready")
    progress, saved = saving()
    content = Content("Watch", attachments=(video,))

    with pytest.raises(StillProcessing):
        await facebook.publish(PAGE, content, progress)
    sent = [multipart(r) for r in platform.sent("POST", "/v27.0/1010/videos")
            if r.headers["content-type"].startswith("multipart")]  # fmt: skip
    assert [p["video_file_chunk"] for p in sent] == [b"012345", b"6789"]
    assert all(r.url.host == "graph-video.facebook.test"
               for r in platform.sent("POST", "/v27.0/1010/videos"))  # fmt: skip
    assert saved[-1]["finished"] is True
    assert saved[-1]["video"]["video_id"] == "v1"

    published = await facebook.publish(PAGE, content, progress)  # the message came back

    assert published.platform_post_id == "v1"
    finishes = [r for r in platform.sent("POST", "/v27.0/1010/videos") if b"finish" in r.content]
    assert len(finishes) == 1  # resumed from the state: never finished twice
    assert dict(httpx.QueryParams(finishes[0].content.decode()))["description"] == "Watch"


async def test_a_video_facebook_could_not_process_fails_as_invalid_content(
    facebook: FacebookPublisher, platform: FakePlatform
) -> None:
    video = MemoryFiles().add("media_v", b"0123456789", "video", "video/mp4")
    video_platform(platform, "error")

    with pytest.raises(PlatformError) as caught:
        await facebook.publish(PAGE, Content("x", attachments=(video,)), saving()[0])

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
