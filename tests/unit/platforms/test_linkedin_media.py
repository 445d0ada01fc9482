"""LinkedIn with library attachments: the Images, Videos (multipart, ETags, finalize) and
Documents APIs, status until AVAILABLE, and the Posts API's media and multiImage shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from herald.accounts import Credentials
from herald.local.media_samples import gif, jpeg, mp4, pdf
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, StillProcessing
from herald.platforms.linkedin import LinkedInPublisher
from tests.fakes.media import MemoryFiles
from tests.fakes.platform_http import FakePlatform, body

API = "https://api.linkedin.test"
UPLOADS = "https://www.linkedin-uploads.test"
MEMBER = Credentials(
    "acc_li", "linkedin", "urn:li:person:abc", "li-token", {"author_urn": "urn:li:person:abc"}
)
CREATED = httpx.Response(201, headers={"x-restli-id": "urn:li:share:7001"})
PART = 4 * 1024 * 1024


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def publisher(platform: FakePlatform) -> AsyncIterator[LinkedInPublisher]:
    client = platform.client()
    yield LinkedInPublisher(client, api_base=API, version="202607")
    await client.aclose()


@pytest.fixture
def files() -> MemoryFiles:
    return MemoryFiles()


def images_api(platform: FakePlatform, count: int) -> None:
    numbers = iter(range(1, count + 1))

    def initialize(request: httpx.Request) -> httpx.Response:
        n = next(numbers)
        return httpx.Response(200, json={"value": {
            "uploadUrl": f"{UPLOADS}/image/{n}", "image": f"urn:li:image:C{n}",
            "uploadUrlExpiresAt": 1_800_000_000_000,
        }})  # fmt: skip

    platform.on("POST", "/rest/images", initialize)
    for n in range(1, count + 1):
        platform.on("PUT", f"/image/{n}", httpx.Response(201))
        available = httpx.Response(200, json={"id": f"urn:li:image:C{n}", "status": "AVAILABLE"})
        platform.on("GET", f"/rest/images/urn:li:image:C{n}", available)


def videos_api(platform: FakePlatform, size: int, statuses: tuple[str, ...]) -> None:
    parts = [
        {"uploadUrl": f"{UPLOADS}/video/{i}", "firstByte": first,
         "lastByte": min(size, first + PART) - 1}
        for i, first in enumerate(range(0, size, PART))
    ]  # fmt: skip
    platform.on("POST", "/rest/videos", lambda request: (
        httpx.Response(200, json={"value": {
            "video": "urn:li:video:V1", "uploadToken": "tok", "uploadInstructions": parts,
            "uploadUrlsExpireAt": 1_800_000_000_000,
        }}) if request.url.params["action"] == "initializeUpload"
        else httpx.Response(200)
    ))  # fmt: skip
    for i in range(len(parts)):
        platform.on("PUT", f"/video/{i}", httpx.Response(200, headers={"ETag": f'"etag-{i}"'}))
    platform.on("GET", "/rest/videos/urn:li:video:V1",
                *(httpx.Response(200, json={"status": s}) for s in statuses))  # fmt: skip


async def test_two_to_twenty_images_are_a_multi_image_post_with_their_alt_text(
    platform: FakePlatform, publisher: LinkedInPublisher, files: MemoryFiles
) -> None:
    images_api(platform, 3)
    platform.on("POST", "/rest/posts", CREATED)
    content = Content(text="Three loaves", attachments=(
        files.attach("m1", jpeg(1200, 800), alt_text="A loaf"),
        files.attach("m2", jpeg(800, 800)),
        files.attach("m3", gif(frames=3), alt_text="Rising dough"),
    ))  # fmt: skip

    await publisher.publish(MEMBER, content, Progress())

    inits = platform.sent("POST", "/rest/images")
    assert [body(r) for r in inits] == [
        {"initializeUploadRequest": {"owner": "urn:li:person:abc"}}
    ] * 3
    assert dict(inits[0].url.params) == {"action": "initializeUpload"}
    assert platform.sent("PUT", "/image/1")[0].content == jpeg(1200, 800)
    assert body(platform.sent("POST", "/rest/posts")[0])["content"] == {"multiImage": {"images": [
        {"id": "urn:li:image:C1", "altText": "A loaf"},
        {"id": "urn:li:image:C2"},
        {"id": "urn:li:image:C3", "altText": "Rising dough"},
    ]}}  # fmt: skip


async def test_one_image_is_a_media_post_with_its_alt_text(
    platform: FakePlatform, publisher: LinkedInPublisher, files: MemoryFiles
) -> None:
    images_api(platform, 1)
    platform.on("POST", "/rest/posts", CREATED)

    await publisher.publish(MEMBER, Content(text="One", attachments=(
        files.attach("m1", jpeg(), alt_text="A loaf"),)), Progress())  # fmt: skip

    assert body(platform.sent("POST", "/rest/posts")[0])["content"] == {
        "media": {"id": "urn:li:image:C1", "altText": "A loaf"}
    }


async def test_a_video_goes_up_in_its_parts_is_finalized_with_their_etags_and_waits_to_be_available(
    platform: FakePlatform, publisher: LinkedInPublisher, files: MemoryFiles
) -> None:
    clip = mp4(1280, 720, seconds=20, size=2 * PART + 1000)
    videos_api(platform, len(clip), ("PROCESSING", "AVAILABLE"))
    platform.on("POST", "/rest/posts", CREATED)
    content = Content(text="The oven", attachments=(files.attach("v", clip),))
    progress = Progress()

    with pytest.raises(StillProcessing):
        await publisher.publish(MEMBER, content, progress)
    assert platform.sent("POST", "/rest/posts") == []
    await publisher.publish(MEMBER, content, progress)

    init, finalize = platform.sent("POST", "/rest/videos")
    assert body(init) == {"initializeUploadRequest": {
        "owner": "urn:li:person:abc", "fileSizeBytes": len(clip), "uploadCaptions": False,
        "uploadThumbnail": False,
    }}  # fmt: skip
    sent = [platform.sent("PUT", f"/video/{i}")[0] for i in range(3)]
    assert b"".join(r.content for r in sent) == clip
    assert all(len(platform.sent("PUT", f"/video/{i}")) == 1 for i in range(3))
    assert "authorization" not in sent[0].headers  # the part URLs are presigned
    assert body(finalize) == {"finalizeUploadRequest": {
        "video": "urn:li:video:V1", "uploadToken": "tok",
        "uploadedPartIds": ["etag-0", "etag-1", "etag-2"],
    }}  # fmt: skip
    assert body(platform.sent("POST", "/rest/posts")[0])["content"] == {
        "media": {"id": "urn:li:video:V1"}
    }


async def test_a_resumed_video_upload_sends_only_the_parts_without_an_etag(
    platform: FakePlatform, publisher: LinkedInPublisher, files: MemoryFiles
) -> None:
    clip = mp4(size=2 * PART)
    videos_api(platform, len(clip), ("AVAILABLE",))
    platform.on("POST", "/rest/posts", CREATED)
    saved = {"uploads": {"v": {
        "urn": "urn:li:video:V1", "token": "tok", "etags": ["etag-0"],
        "parts": [[f"{UPLOADS}/video/0", 0, PART - 1], [f"{UPLOADS}/video/1", PART, 2 * PART - 1]],
    }}}  # fmt: skip

    await publisher.publish(MEMBER, Content(text="x", attachments=(files.attach("v", clip),)),
                            Progress(state=saved))  # fmt: skip

    assert platform.sent("PUT", "/video/0") == []
    assert platform.sent("PUT", "/video/1")[0].content == clip[PART:]
    [finalize] = [r for r in platform.sent("POST", "/rest/videos")]
    assert body(finalize)["finalizeUploadRequest"]["uploadedPartIds"] == ["etag-0", "etag-1"]


async def test_a_pdf_is_a_document_post_with_a_title(
    platform: FakePlatform, publisher: LinkedInPublisher, files: MemoryFiles
) -> None:
    document = pdf(12)
    platform.on("POST", "/rest/documents", httpx.Response(200, json={"value": {
        "uploadUrl": f"{UPLOADS}/doc/1", "document": "urn:li:document:D1",
    }}))  # fmt: skip
    platform.on("PUT", "/doc/1", httpx.Response(201))
    platform.on("GET", "/rest/documents/urn:li:document:D1",
                httpx.Response(200, json={"status": "AVAILABLE"}))  # fmt: skip
    platform.on("POST", "/rest/posts", CREATED)

    await publisher.publish(MEMBER, Content(text="Our menu\nfor winter",
                                            attachments=(files.attach("d", document),)),
                            Progress())  # fmt: skip

    assert platform.sent("PUT", "/doc/1")[0].content == document
    assert body(platform.sent("POST", "/rest/posts")[0])["content"] == {
        "media": {"id": "urn:li:document:D1", "title": "Our menu"}
    }


async def test_a_video_linkedin_could_not_process_fails_and_posts_nothing(
    platform: FakePlatform, publisher: LinkedInPublisher, files: MemoryFiles
) -> None:
    clip = mp4(size=200_000)
    videos_api(platform, len(clip), ("PROCESSING_FAILED",))

    with pytest.raises(PlatformError) as caught:
        await publisher.publish(MEMBER, Content(text="x", attachments=(files.attach("v", clip),)),
                                Progress())  # fmt: skip

    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert platform.sent("POST", "/rest/posts") == []
