"""Facebook and Instagram uploads against the sandbox's upload protocols, in process: the real
publishers, resumed across StillProcessing as the worker would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from herald.accounts import Credentials
from herald.local.sandbox.app import create_app
from herald.local.sandbox.state import SandboxState, Token
from herald.platforms.base import Content, Progress, Published, Publisher, StillProcessing
from herald.platforms.meta import FacebookPublisher, InstagramPublisher
from herald.settings import Settings
from tests.fakes.memory_media import MemoryFiles

BASE = "http://sandbox.test"
PAGE_ID = "200000000000001"
IG_ID = "17841400000000001"


class SandboxImages(MemoryFiles):
    """Links to an image the sandbox serves itself, as S3's would be fetched by Meta."""

    def presigned_get(self, key: str, expires_seconds: int) -> str:
        super().presigned_get(key, expires_seconds)
        return f"{BASE}/_sandbox/images/cat.jpg"


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


def token(state: SandboxState, user_id: str, **extra: object) -> str:
    made = Token("meta", "client", user_id, ("write",), None, **extra)  # type: ignore[arg-type]
    return state.issue_token(made, "tok")


async def until_published(publisher: Publisher, creds: Credentials, content: Content) -> Published:
    """Run the publisher as the worker does: each StillProcessing is a message that comes back."""
    saved: dict[str, Any] = {}

    async def save(new: dict[str, Any]) -> None:
        saved.clear()
        saved.update(new)

    progress = Progress(save=save)
    for _ in range(10):
        try:
            return await publisher.publish(creds, content, progress)
        except StillProcessing:
            progress = Progress(part_ids=progress.part_ids, state=dict(saved), save=save)
    raise AssertionError("never published")


async def test_photos_and_a_video_reach_a_facebook_page_through_the_sandbox(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    creds = Credentials("acc_fb", "facebook", PAGE_ID, token(state, PAGE_ID), {"page_id": PAGE_ID})
    facebook = FacebookPublisher(http, graph_base=BASE, version="v27.0", video_base=BASE)
    files = MemoryFiles()
    photos = (files.add("media_1", b"a" * 100, alt_text="Loaf"), files.add("media_2", b"b" * 50))
    video = files.add("media_v", b"v" * (2 * 1024 * 1024 + 5), "video", "video/mp4")

    album = await until_published(facebook, creds, Content("Two", attachments=photos))
    clip = await until_published(facebook, creds, Content("Clip", attachments=(video,)))

    assert len(state.posts[album.platform_post_id]["photos"]) == 2
    assert state.posts[album.platform_post_id]["alt_texts"] == ["Loaf", None]
    assert state.posts[clip.platform_post_id]["video"] == 2 * 1024 * 1024 + 5
    assert state.calls["facebook.video_transfer"] == 3  # the sandbox names 1 MiB ranges


async def test_a_reel_and_a_carousel_reach_instagram_through_the_sandbox(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    creds = Credentials("acc_ig", "instagram", IG_ID,
                        token(state, "10000000000000001", long_lived=True), {})  # fmt: skip
    instagram = InstagramPublisher(http, graph_base=BASE, version="v27.0", rupload_base=BASE)
    files = SandboxImages()
    reel = files.add("media_v", b"v" * 4096, "video", "video/mp4", duration_ms=9000)
    items = (files.add("media_1", b"x", alt_text="Loaf"), files.add("media_2", b"y"))

    published_reel = await until_published(instagram, creds, Content("R", attachments=(reel,)))
    carousel = await until_published(instagram, creds, Content("C", attachments=items))

    assert state.posts[published_reel.platform_post_id]["text"] == "R"
    assert state.calls["instagram.rupload"] == 1
    assert state.posts[carousel.platform_post_id]["text"] == "C"
    assert state.calls["instagram.media_publish"] >= 2


async def test_the_sandbox_can_force_a_page_video_and_an_instagram_container_to_fail(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    from herald.platforms.base import ErrorKind, PlatformError

    await http.post("/_sandbox/meta_media/config",
                    json={"fb_video_error": True, "ig_container_error": True})  # fmt: skip
    page = Credentials("acc_fb", "facebook", PAGE_ID, token(state, PAGE_ID), {"page_id": PAGE_ID})
    ig = Credentials("acc_ig", "instagram", IG_ID,
                     token(state, "10000000000000001", long_lived=True), {})  # fmt: skip
    files = MemoryFiles()
    video = files.add("media_v", b"v" * 2048, "video", "video/mp4", duration_ms=9000)
    facebook = FacebookPublisher(http, graph_base=BASE, version="v27.0", video_base=BASE)
    instagram = InstagramPublisher(http, graph_base=BASE, version="v27.0", rupload_base=BASE)

    for publisher, creds in ((facebook, page), (instagram, ig)):
        with pytest.raises(PlatformError) as caught:
            await until_published(publisher, creds, Content("x", attachments=(video,)))
        assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert not [p for p in state.posts.values() if p["platform"] == "instagram"]
