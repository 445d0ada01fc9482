"""Media through `make dev` as a user runs it: files uploaded with the presigned POST to the
stack's S3 (moto's server), read from their bytes, and published to X and LinkedIn through the
sandbox's upload protocols over real HTTP. Processing longer than the API waits comes back
through SQS with DelaySeconds and the worker finishes the post."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from herald.local.media_samples import gif, jpeg, mp4, pdf
from tests.conftest import REDIS_URL
from tests.e2e.test_local_stack import free_port
from tests.fakes.stack_process import launch

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, str]]:
    api_port, moto_port, sandbox_port = free_port(), free_port(), free_port()
    env = {**os.environ, "REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1",
           "HERALD_TICK_SECONDS": "1"}  # fmt: skip
    for name in ("AWS_ENDPOINT_URL", "FRONTEND_URL", "PUBLIC_API_URL"):
        env.pop(name, None)
    process, output, drain = launch(
        [sys.executable, "-m", "herald.local.stack", "--port", str(api_port),
         "--moto-port", str(moto_port), "--sandbox-port", str(sandbox_port)],
        env,
        ready_within=60,
    )  # fmt: skip
    yield {
        "api": f"http://127.0.0.1:{api_port}",
        "key": next(line for line in output if "demo API key" in line).split()[-1],
        "sandbox": f"http://127.0.0.1:{sandbox_port}",
    }
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    drain.join(5)
    assert process.stdout is not None
    process.stdout.close()


@pytest.fixture(scope="module")
def http(stack: dict[str, str]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {stack['key']}"}
    with httpx.Client(base_url=stack["api"], headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def accounts(http: httpx.Client) -> dict[str, str]:
    found: dict[str, str] = {}
    for provider in ("x", "linkedin"):
        url = http.get(f"/api/v1/oauth/{provider}/authorize").json()["authorization_url"]
        consent = httpx.get(url)
        assert consent.status_code == 302, consent.text
        back = httpx.get(consent.headers["location"])
        confirmation = parse_qs(urlsplit(back.headers["location"]).query)["confirm"][0]
        confirmed = http.post(f"/api/v1/oauth/{provider}/confirm",
                              json={"confirmation": confirmation})  # fmt: skip
        assert confirmed.status_code == 200, confirmed.text
        for account in confirmed.json()["connected"]:
            found[account["platform"]] = account["account_id"]
    return found


def upload(http: httpx.Client, data: bytes, filename: str) -> str:
    created = http.post("/api/v1/media", json={"filename": filename})
    assert created.status_code == 201, created.text
    form = created.json()["upload"]
    sent = httpx.post(form["url"], data=form["fields"], files={"file": (filename, data)},
                      timeout=60)  # fmt: skip
    assert sent.status_code in (200, 204), sent.text
    media = http.get(f"/api/v1/media/{created.json()['media_id']}").json()
    assert media["status"] == "ready", media
    return str(media["media_id"])


def configure(stack: dict[str, str], **settings: Any) -> None:
    httpx.post(f"{stack['sandbox']}/_sandbox/config", json=settings).raise_for_status()


def finished(http: httpx.Client, post: dict[str, Any], seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while post["status"] in ("pending", "queued", "publishing") and time.monotonic() < deadline:
        time.sleep(0.5)
        post = http.get(f"/api/v1/posts/{post['post_id']}").json()
    return post


def sandbox_post(stack: dict[str, str], platform: str, post_id: str) -> dict[str, Any]:
    posts = httpx.get(f"{stack['sandbox']}/_sandbox/posts", params={"platform": platform})
    found: dict[str, Any] = next(p for p in posts.json()["posts"] if p["id"] == post_id)
    return found


def test_x_gets_images_with_alt_text_and_a_gif_in_a_thread(
    stack: dict[str, str], http: httpx.Client, accounts: dict[str, str]
) -> None:
    first, second = upload(http, jpeg(1200, 800), "a.jpg"), upload(http, jpeg(800, 800), "b.jpg")
    moving = upload(http, gif(frames=5), "dough.gif")
    answer = http.post("/api/v1/publish/twitter", json={
        "account_ids": [accounts["x"]], "thread": ["Two loaves", "And the dough"],
        "media": [{"media_id": first, "alt_text": "A loaf"}, {"media_id": second},
                  {"media_id": moving, "part": 1, "alt_text": "Dough rising"}],
    })  # fmt: skip
    post = finished(http, answer.json())
    assert post["status"] == "published", post
    root, reply = post["targets"][0]["part_ids"]
    assert [(m["category"], m["alt_text"]) for m in sandbox_post(stack, "x", root)["media"]] == [
        ("tweet_image", "A loaf"), ("tweet_image", None),
    ]  # fmt: skip
    assert [m["category"] for m in sandbox_post(stack, "x", reply)["media"]] == ["tweet_gif"]


def test_an_x_video_processing_longer_than_the_request_waits_is_finished_by_the_worker(
    stack: dict[str, str], http: httpx.Client, accounts: dict[str, str]
) -> None:
    configure(stack, x_processing_polls=1, x_check_after_secs=6)
    try:
        clip = upload(http, mp4(1280, 720, seconds=30, size=6 * 1024 * 1024), "oven.mp4")
        answer = http.post("/api/v1/publish/twitter", json={
            "account_ids": [accounts["x"]], "text": "The oven at work",
            "media": [{"media_id": clip}],
        })  # fmt: skip
        assert answer.status_code == 202, answer.text
        assert answer.json()["targets"][0]["status"] == "processing"
        post = finished(http, answer.json())
    finally:
        configure(stack, x_check_after_secs=1)
    assert post["status"] == "published", post
    [media] = sandbox_post(stack, "x", post["targets"][0]["platform_post_id"])["media"]
    assert (media["category"], media["bytes"]) == ("tweet_video", 6 * 1024 * 1024)


def test_linkedin_gets_a_multi_image_post_a_video_and_a_document(
    stack: dict[str, str], http: httpx.Client, accounts: dict[str, str]
) -> None:
    images = [upload(http, jpeg(600 + i, 600), f"{i}.jpg") for i in range(3)]
    clip = upload(http, mp4(1280, 720, seconds=12, size=5 * 1024 * 1024), "clip.mp4")
    document = upload(http, pdf(6), "menu.pdf")
    posts = [
        http.post(
            "/api/v1/publish/linkedin",
            json={
                "account_ids": [accounts["linkedin"]],
                "text": text,
                "media": media,
            },
        ).json()
        for text, media in (
            (
                "Three loaves",
                [{"media_id": m, "alt_text": f"Loaf {i}"} for i, m in enumerate(images)],
            ),
            ("The oven", [{"media_id": clip}]),
            ("Winter menu", [{"media_id": document}]),
        )
    ]
    done = [finished(http, p) for p in posts]
    assert [p["status"] for p in done] == ["published"] * 3, done
    multi, video, doc = (
        sandbox_post(stack, "linkedin", p["targets"][0]["platform_post_id"])["media"] for p in done
    )
    assert [m["alt_text"] for m in multi] == ["Loaf 0", "Loaf 1", "Loaf 2"]
    assert video[0]["id"].startswith("urn:li:video:")
    assert (doc[0]["id"].split(":")[2], doc[0]["title"]) == ("document", "Winter menu")


def test_a_limit_is_refused_with_its_code_before_anything_is_sent(
    http: httpx.Client, accounts: dict[str, str]
) -> None:
    document = upload(http, pdf(2), "menu.pdf")
    answer = http.post("/api/v1/publish/twitter", json={
        "account_ids": [accounts["x"]], "text": "menu", "media": [{"media_id": document}],
    })  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "media.unsupported_for_platform"
