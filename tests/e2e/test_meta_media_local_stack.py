"""Facebook Pages, Instagram and Threads media through `make dev` as a user runs it: files
uploaded with the presigned POST to the stack's S3 (moto's server), then every media kind
published through the sandbox's upload protocols over real HTTP: Facebook photos and a video
that processes past the request (the worker finishes it), Instagram images, a carousel, a Reel
and a Story (images fetched by the sandbox from presigned S3 links), Threads images, a video
and a carousel in a reply chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from herald.local.media_samples import jpeg, mp4
from tests.e2e.test_media_local_stack import finished, sandbox_post, stack, upload

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
__all__ = ["stack"]  # the module-scoped local stack, shared with the X and LinkedIn media tests
PAGE_WITH_INSTAGRAM = "200000000000001"


@pytest.fixture(scope="module")
def http(stack: dict[str, str]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {stack['key']}"}
    with httpx.Client(base_url=stack["api"], headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def accounts(http: httpx.Client) -> dict[str, str]:
    found: dict[str, str] = {}
    for provider in ("meta", "threads"):
        url = http.get(f"/api/v1/oauth/{provider}/authorize").json()["authorization_url"]
        consent = httpx.get(url)
        assert consent.status_code == 302, consent.text
        back = httpx.get(consent.headers["location"])
        confirmation = parse_qs(urlsplit(back.headers["location"]).query)["confirm"][0]
        confirmed = http.post(f"/api/v1/oauth/{provider}/confirm",
                              json={"confirmation": confirmation})  # fmt: skip
        assert confirmed.status_code == 200, confirmed.text
        for account in http.get("/api/v1/accounts").json()["accounts"]:
            if account["platform"] == "facebook" and account["external_id"] != PAGE_WITH_INSTAGRAM:
                continue
            found[account["platform"]] = account["account_id"]
    return found


def publish(http: httpx.Client, route: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = http.post(f"/api/v1/publish/{route}", json=body)
    assert answer.status_code in (200, 202), answer.text
    post = finished(http, answer.json(), seconds=90)
    assert post["status"] == "published", post
    return post


def live(stack: dict[str, str], platform: str, post: dict[str, Any]) -> dict[str, Any]:
    return sandbox_post(stack, platform, post["targets"][0]["platform_post_id"])


def test_facebook_gets_photos_with_alt_text_and_a_video_the_worker_finishes(
    stack: dict[str, str], http: httpx.Client, accounts: dict[str, str]
) -> None:
    photos = [upload(http, jpeg(900 + i, 700), f"p{i}.jpg") for i in range(2)]
    clip = upload(http, mp4(1280, 720, seconds=8, size=3 * 1024 * 1024 + 7), "oven.mp4")
    album = publish(http, "meta", {
        "account_ids": [accounts["facebook"]], "text": "Two loaves",
        "media": [{"media_id": photos[0], "alt_text": "A loaf"}, {"media_id": photos[1]}],
    })  # fmt: skip
    httpx.post(f"{stack['sandbox']}/_sandbox/meta_media/config",
               json={"fb_video_polls": 1}).raise_for_status()  # fmt: skip
    video = publish(http, "meta", {"account_ids": [accounts["facebook"]], "text": "The oven",
                                   "media": [{"media_id": clip}]})  # fmt: skip

    assert live(stack, "facebook", album)["alt_texts"] == ["A loaf", None]
    assert live(stack, "facebook", video)["video"] == 3 * 1024 * 1024 + 7


def test_instagram_gets_an_image_a_carousel_a_reel_and_a_story(
    stack: dict[str, str], http: httpx.Client, accounts: dict[str, str]
) -> None:
    images = [upload(http, jpeg(1080, 1080 + i), f"i{i}.jpg") for i in range(3)]
    reel = upload(http, mp4(720, 1280, seconds=12, size=2 * 1024 * 1024), "reel.mp4")
    ig = [accounts["instagram"]]
    single = publish(
        http,
        "meta",
        {"account_ids": ig, "text": "One", "media": [{"media_id": images[0], "alt_text": "Loaf"}]},
    )
    carousel = publish(
        http,
        "meta",
        {"account_ids": ig, "text": "Many", "media": [{"media_id": m} for m in images]},
    )
    published_reel = publish(
        http, "meta", {"account_ids": ig, "text": "Reel", "media": [{"media_id": reel}]}
    )
    story = publish(http, "meta", {"account_ids": ig, "story": True,
                                   "media": [{"media_id": images[1]}]})  # fmt: skip

    assert live(stack, "instagram", single)["text"] == "One"
    assert live(stack, "instagram", carousel)["text"] == "Many"
    assert live(stack, "instagram", published_reel)["text"] == "Reel"
    assert live(stack, "instagram", story)["text"] == ""


def test_threads_gets_an_image_a_video_and_a_carousel_in_a_reply_chain(
    stack: dict[str, str], http: httpx.Client, accounts: dict[str, str]
) -> None:
    image, second = upload(http, jpeg(800, 600), "t1.jpg"), upload(http, jpeg(600, 800), "t2.jpg")
    clip = upload(http, mp4(720, 1280, seconds=10, size=1024 * 1024), "t.mp4")
    post = publish(http, "threads", {
        "account_ids": [accounts["threads"]], "thread": ["Bake day", "The oven", "Both"],
        "media": [{"media_id": image, "alt_text": "Loaf"}, {"media_id": clip, "part": 1},
                  {"media_id": image, "part": 2}, {"media_id": second, "part": 2}],
    })  # fmt: skip

    first, reply, last = post["targets"][0]["part_ids"]
    assert sandbox_post(stack, "threads", first)["media_type"] == "IMAGE"
    assert sandbox_post(stack, "threads", reply)["media_type"] == "VIDEO"
    assert sandbox_post(stack, "threads", reply)["reply_to"] == first
    assert sandbox_post(stack, "threads", last)["media_type"] == "CAROUSEL"
