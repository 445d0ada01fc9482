"""X with library attachments: the chunked v2 upload streamed from S3 a segment at a time, alt
text as media metadata, each tweet's own media, processing answered as StillProcessing, and a
resumed run that never uploads again what its state says is there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.accounts import Credentials
from herald.local.media_samples import gif, jpeg, mp4
from herald.platforms.base import Content, Progress, StillProcessing
from herald.platforms.x import XPublisher
from herald.platforms.x_media import SEGMENT
from tests.fakes.media import MemoryFiles
from tests.fakes.platform_http import FakePlatform, body

API = "https://api.x.test"
CREDS = Credentials("acc_x", "x", "2244994945", "x-token", {"username": "herald"})


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def publisher(platform: FakePlatform) -> AsyncIterator[XPublisher]:
    client = platform.client()
    yield XPublisher(client, api_base=API)
    await client.aclose()


@pytest.fixture
def files() -> MemoryFiles:
    return MemoryFiles()


def ids_from(start: int) -> Any:
    counter = iter(range(start, start + 100))

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"id": str(next(counter))}})

    return answer


def ready(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": {"id": request.url.path.split("/")[-2]}})


def tweets() -> Any:
    counter = iter(range(1, 100))
    return lambda request: httpx.Response(201, json={"data": {"id": f"t{next(counter)}"}})


def segment_indexes(platform: FakePlatform, upload: str) -> list[bytes]:
    return [
        r.content.split(b'name="segment_index"\r\n\r\n')[1].split(b"\r\n")[0]
        for r in platform.sent("POST", f"/2/media/upload/{upload}/append")
    ]


async def test_images_with_alt_text_go_on_their_own_tweets_of_a_thread(
    platform: FakePlatform, publisher: XPublisher, files: MemoryFiles
) -> None:
    platform.on("POST", "/2/media/upload/initialize", ids_from(100))
    for upload in ("100", "101", "102"):
        platform.on("POST", f"/2/media/upload/{upload}/append", httpx.Response(204))
        platform.on("POST", f"/2/media/upload/{upload}/finalize", ready)
    platform.on("POST", "/2/media/metadata", httpx.Response(200, json={"data": {}}))
    platform.on("POST", "/2/tweets", tweets())
    content = Content(
        thread=("The bake", "The crumb"),
        attachments=(
            files.attach("media_a", jpeg(1200, 800), alt_text="A loaf on the bench"),
            files.attach("media_b", jpeg(800, 800)),
            files.attach("media_c", gif(frames=3), part=1),
        ),
    )

    published = await publisher.publish(CREDS, content, Progress())

    inits = [body(r) for r in platform.sent("POST", "/2/media/upload/initialize")]
    assert [(i["media_type"], i["media_category"]) for i in inits] == [
        ("image/jpeg", "tweet_image"), ("image/jpeg", "tweet_image"), ("image/gif", "tweet_gif"),
    ]  # fmt: skip
    [alt] = platform.sent("POST", "/2/media/metadata")
    assert body(alt) == {"id": "100", "metadata": {"alt_text": {"text": "A loaf on the bench"}}}
    first, second = (body(r) for r in platform.sent("POST", "/2/tweets"))
    assert first["media"] == {"media_ids": ["100", "101"]}
    assert second["media"] == {"media_ids": ["102"]}
    assert second["reply"] == {"in_reply_to_tweet_id": "t1"}
    assert published.part_ids == ("t1", "t2")


async def test_a_video_is_streamed_in_segments_and_never_read_whole(
    platform: FakePlatform, publisher: XPublisher, files: MemoryFiles
) -> None:
    clip = mp4(1280, 720, seconds=30, size=10 * 1024 * 1024)
    platform.on("POST", "/2/media/upload/initialize", ids_from(200))
    platform.on("POST", "/2/media/upload/200/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/200/finalize", ready)
    platform.on("POST", "/2/tweets", tweets())

    await publisher.publish(CREDS, Content(text="oven", attachments=(files.attach("m", clip),)),
                            Progress())  # fmt: skip

    [init] = platform.sent("POST", "/2/media/upload/initialize")
    assert body(init) == {
        "media_type": "video/mp4", "total_bytes": len(clip), "media_category": "tweet_video",
    }  # fmt: skip
    assert segment_indexes(platform, "200") == [b"0", b"1", b"2"]
    assert max(end - start for _, start, end in files.ranges) <= SEGMENT


async def test_while_x_processes_the_video_nothing_is_tweeted_and_the_state_says_where_it_is(
    platform: FakePlatform, publisher: XPublisher, files: MemoryFiles
) -> None:
    platform.on("POST", "/2/media/upload/initialize", ids_from(300))
    platform.on("POST", "/2/media/upload/300/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/300/finalize", httpx.Response(200, json={"data": {
        "id": "300", "processing_info": {"state": "pending", "check_after_secs": 7},
    }}))  # fmt: skip
    platform.on("GET", "/2/media/upload", httpx.Response(200, json={"data": {
        "id": "300", "processing_info": {"state": "succeeded", "progress_percent": 100},
    }}))  # fmt: skip
    platform.on("POST", "/2/tweets", tweets())
    content = Content(text="oven", attachments=(files.attach("m", mp4(size=300_000)),))
    progress = Progress()

    with pytest.raises(StillProcessing) as still:
        await publisher.publish(CREDS, content, progress)
    assert still.value.after_seconds == 7
    assert progress.state == {"uploads": {"m": {"id": "300", "next": 1, "finalized": True,
                                                "ready": False}}}  # fmt: skip
    assert platform.sent("POST", "/2/tweets") == []

    await publisher.publish(CREDS, content, progress)
    assert len(platform.sent("POST", "/2/media/upload/initialize")) == 1
    assert len(platform.sent("POST", "/2/media/upload/300/append")) == 1
    assert body(platform.sent("POST", "/2/tweets")[0])["media"] == {"media_ids": ["300"]}
    assert progress.state["posting"] is True


async def test_a_run_resumed_mid_upload_appends_from_the_next_segment(
    platform: FakePlatform, publisher: XPublisher, files: MemoryFiles
) -> None:
    clip = mp4(size=3 * SEGMENT + 10)
    platform.on("POST", "/2/media/upload/400/append", httpx.Response(204))
    platform.on("POST", "/2/media/upload/400/finalize", ready)
    platform.on("POST", "/2/tweets", tweets())
    saved = Progress(state={"uploads": {"m": {"id": "400", "next": 2}}})

    await publisher.publish(CREDS, Content(text="oven", attachments=(files.attach("m", clip),)),
                            saved)  # fmt: skip

    assert platform.sent("POST", "/2/media/upload/initialize") == []
    assert segment_indexes(platform, "400") == [b"2", b"3"]
    assert files.ranges[0][1] == 2 * SEGMENT
