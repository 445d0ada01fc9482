"""The X and LinkedIn publishers against the sandbox's upload protocols, in process: every media
kind goes out, processing comes back as StillProcessing until the sandbox is done, forced
processing failures end the target, and the sandbox refuses what the platforms refuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from herald.accounts import Credentials
from herald.local.media_samples import gif, jpeg, mp4, pdf
from herald.local.sandbox.app import create_app
from herald.local.sandbox.state import SandboxState, Token
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, StillProcessing
from herald.platforms.linkedin import LinkedInPublisher
from herald.platforms.x import XPublisher
from herald.settings import Settings
from tests.fakes.media import MemoryFiles

BASE = "http://sandbox.test"
MEMBER_URN = "urn:li:person:sandboxMember01"
X_USER = "1500000000000000001"


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


def token(state: SandboxState, platform: str, user_id: str) -> str:
    return state.issue_token(Token(platform, "client", user_id, ("write",), None), "tok")  # type: ignore[arg-type]


@pytest.fixture
def x(http: httpx.AsyncClient, state: SandboxState) -> tuple[XPublisher, Credentials]:
    creds = Credentials("acc_x", "x", X_USER, token(state, "x", X_USER), {"username": "sb"})
    return XPublisher(http, api_base=BASE), creds


@pytest.fixture
def linkedin(http: httpx.AsyncClient, state: SandboxState) -> tuple[LinkedInPublisher, Credentials]:
    creds = Credentials("acc_li", "linkedin", MEMBER_URN,
                        token(state, "linkedin", "sandboxMember01"),
                        {"author_urn": MEMBER_URN})  # fmt: skip
    return LinkedInPublisher(http, api_base=BASE, version="202607"), creds


@pytest.fixture
def files() -> MemoryFiles:
    return MemoryFiles()


async def until_out(publisher: Any, creds: Credentials, content: Content) -> tuple[Any, int]:
    """Publish as the worker would across deliveries: again after each StillProcessing."""
    progress, rounds = Progress(), 0
    while True:
        try:
            return await publisher.publish(creds, content, progress), rounds
        except StillProcessing:
            rounds += 1
            assert rounds < 10


def post_of(state: SandboxState, published: Any) -> dict[str, Any]:
    return state.posts[published.platform_post_id]


async def test_x_takes_four_images_with_alt_text(
    x: tuple[XPublisher, Credentials], files: MemoryFiles, state: SandboxState
) -> None:
    content = Content(text="Four loaves", attachments=tuple(
        files.attach(f"m{i}", jpeg(600 + i, 600), alt_text=f"Loaf {i}") for i in range(4)
    ))  # fmt: skip
    published, rounds = await until_out(*x, content)
    media = post_of(state, published)["media"]
    assert rounds == 0
    assert [(m["category"], m["alt_text"]) for m in media] == [
        ("tweet_image", f"Loaf {i}") for i in range(4)
    ]


async def test_x_processes_a_gif_and_a_video_before_their_tweets_go_out(
    x: tuple[XPublisher, Credentials], files: MemoryFiles, state: SandboxState,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await http.post("/_sandbox/config", json={"x_processing_polls": 2})
    content = Content(thread=("The bake", "The crumb"), attachments=(
        files.attach("g", gif(frames=4)),
        files.attach("v", mp4(1280, 720, 30, size=9 * 1024 * 1024), part=1),
    ))  # fmt: skip
    published, rounds = await until_out(*x, content)
    first, second = (state.posts[i] for i in published.part_ids)
    assert rounds == 3  # finalize pending, then two in_progress reads
    assert [m["category"] for m in first["media"]] == ["tweet_gif"]
    assert [(m["category"], m["bytes"]) for m in second["media"]] == [
        ("tweet_video", 9 * 1024 * 1024)
    ]


async def test_x_media_that_fails_processing_fails_the_post_and_nothing_goes_out(
    x: tuple[XPublisher, Credentials], files: MemoryFiles, state: SandboxState,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await http.post("/_sandbox/config", json={"media_failures": {"x": 1}})
    with pytest.raises(PlatformError) as caught:
        await until_out(*x, Content(text="x", attachments=(files.attach("v", mp4()),)))
    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert state.posts == {}


async def test_the_x_sandbox_refuses_a_video_beside_an_image(
    http: httpx.AsyncClient, x: tuple[XPublisher, Credentials], files: MemoryFiles
) -> None:
    publisher, creds = x
    with pytest.raises(PlatformError) as caught:
        await until_out(publisher, creds, Content(text="x", attachments=(
            files.attach("v", mp4()), files.attach("i", jpeg()),
        )))  # fmt: skip
    assert caught.value.kind is ErrorKind.INVALID_CONTENT
    assert caught.value.status == 400


async def test_linkedin_takes_a_multi_image_post(
    linkedin: tuple[LinkedInPublisher, Credentials], files: MemoryFiles, state: SandboxState
) -> None:
    content = Content(text="Three", attachments=(
        files.attach("a", jpeg(), alt_text="A loaf"), files.attach("b", jpeg(400, 400)),
        files.attach("c", gif(frames=2)),
    ))  # fmt: skip
    published, _ = await until_out(*linkedin, content)
    media = post_of(state, published)["media"]
    assert [m["alt_text"] for m in media] == ["A loaf", None, None]
    assert all(m["id"].startswith("urn:li:image:") for m in media)


async def test_linkedin_video_goes_up_in_parts_and_posts_once_available(
    linkedin: tuple[LinkedInPublisher, Credentials], files: MemoryFiles, state: SandboxState,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await http.post("/_sandbox/config", json={"linkedin_processing_polls": 2})
    clip = mp4(1280, 720, 20, size=9 * 1024 * 1024)
    published, rounds = await until_out(*linkedin, Content(
        text="The oven", attachments=(files.attach("v", clip),)))  # fmt: skip
    assert rounds == 2
    [media] = post_of(state, published)["media"]
    assert media["id"].startswith("urn:li:video:")


async def test_linkedin_document_post(
    linkedin: tuple[LinkedInPublisher, Credentials], files: MemoryFiles, state: SandboxState
) -> None:
    published, _ = await until_out(*linkedin, Content(
        text="Winter menu", attachments=(files.attach("d", pdf(4)),)))  # fmt: skip
    [media] = post_of(state, published)["media"]
    assert (media["id"].split(":")[2], media["title"]) == ("document", "Winter menu")


async def test_linkedin_video_that_fails_processing_posts_nothing(
    linkedin: tuple[LinkedInPublisher, Credentials], files: MemoryFiles, state: SandboxState,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await http.post("/_sandbox/config", json={"media_failures": {"linkedin": 1}})
    with pytest.raises(PlatformError) as caught:
        await until_out(*linkedin, Content(text="x", attachments=(files.attach("v", mp4()),)))
    assert caught.value.platform_code == "PROCESSING_FAILED"
    assert state.posts == {}


async def test_the_linkedin_sandbox_refuses_a_post_naming_media_not_available(
    http: httpx.AsyncClient, linkedin: tuple[LinkedInPublisher, Credentials]
) -> None:
    _, creds = linkedin
    headers = {"Authorization": f"Bearer {creds.access_token}", "LinkedIn-Version": "202607"}
    answer = await http.post("/rest/posts", headers=headers, json={
        "author": MEMBER_URN, "commentary": "x", "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"}, "lifecycleState": "PUBLISHED",
        "content": {"media": {"id": "urn:li:video:C5F0000000099"}},
    })  # fmt: skip
    assert answer.status_code == 422
