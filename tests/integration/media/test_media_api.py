"""The media library and posts that attach its files, through the API Lambda handler on moto:
a presigned upload straight to S3, the file read from its own bytes, the platforms' limits at
creation and on edit, and a post whose media is still processing answered 202 and queued."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests

from herald.accounts import Account, AccountStatus, PlatformName
from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.local.media_samples import gif, jpeg, mp4, pdf
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.media import ProcessingPlatform, SentMessages
from tests.fakes.publishing import FakePublisher

ACCOUNTS: dict[str, PlatformName] = {"acc_li": "linkedin", "acc_x": "x", "acc_ig": "instagram"}


@pytest.fixture
def api(container: Container, clock: FrozenClock, lambda_context: Any) -> Any:
    from functions.api import app as api_app

    container.__dict__["clock"] = clock
    container.__dict__["publishers"] = {p: FakePublisher(p) for p in ACCOUNTS.values()}
    business = create_business(container, "Acme Bakery")
    for account_id, platform in ACCOUNTS.items():
        container.accounts.upsert(
            Account(
                account_id=account_id,
                business_id=business["business_id"],
                platform=platform,
                external_id=f"ext-{account_id}",
                display_name=account_id,
                status=AccountStatus.CONNECTED,
                access_token_enc=container.vault.encrypt("token"),
            )
        )

    def call(method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {key or business['api_key']}"}
        event = http_event(method, path, headers=headers, body=body)
        response = api_app.handler(event, lambda_context)
        return response["statusCode"], response_json(response) if response.get("body") else None

    return call


def upload(api: Any, data: bytes, filename: str = "file") -> str:
    status, created = api("POST", "/api/v1/media", {"filename": filename})
    assert status == 201
    form = created["upload"]
    answer = requests.post(form["url"], data=form["fields"], files={"file": (filename, data)})
    assert answer.status_code in (200, 204)
    media_id: str = created["media_id"]
    return media_id


def test_a_new_upload_is_a_presigned_post_bounded_in_size_and_tagged_unused(api: Any) -> None:
    status, created = api("POST", "/api/v1/media", {"filename": "oven.mp4"})
    assert status == 201
    assert created["status"] == "awaiting_upload"
    fields = created["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, created["upload"]["max_bytes"]] in conditions
    assert {"key": fields["key"]} in conditions
    assert fields["key"].endswith(created["media_id"])
    assert "herald-unused" in fields["tagging"]


def test_after_upload_the_file_is_described_from_its_own_bytes(api: Any) -> None:
    media_id = upload(api, mp4(1920, 1080, seconds=12.5, size=400_000), filename="photo.jpg")
    status, media = api("GET", f"/api/v1/media/{media_id}")
    assert status == 200
    assert {k: media[k] for k in ("status", "kind", "content_type", "width", "height")} == {
        "status": "ready", "kind": "video", "content_type": "video/mp4", "width": 1920,
        "height": 1080,
    }  # fmt: skip
    assert (media["duration_seconds"], media["size"]) == (12.5, 400_000)


def test_before_its_upload_a_file_is_awaiting_it(api: Any) -> None:
    _, created = api("POST", "/api/v1/media", {})
    status, media = api("GET", f"/api/v1/media/{created['media_id']}")
    assert (status, media["status"]) == (200, "awaiting_upload")


def test_a_file_of_no_format_herald_publishes_is_rejected_with_why(api: Any) -> None:
    media_id = upload(api, b"MZ\x90\x00 not media at all")
    _, media = api("GET", f"/api/v1/media/{media_id}")
    assert media["status"] == "rejected"
    assert "not an image, video or PDF" in media["reason"]


def test_another_business_s_media_is_not_found(api: Any, container: Container) -> None:
    media_id = upload(api, jpeg(100, 100))
    other = create_business(container, "Other")
    status, _ = api("GET", f"/api/v1/media/{media_id}", key=other["api_key"])
    assert status == 404


def test_deleting_a_file_removes_it_and_its_record(api: Any, container: Container) -> None:
    media_id = upload(api, jpeg(100, 100))
    assert api("DELETE", f"/api/v1/media/{media_id}")[0] == 204
    assert api("GET", f"/api/v1/media/{media_id}")[0] == 404
    listed = container.s3.list_objects_v2(Bucket=container.settings.media_bucket)
    assert listed.get("KeyCount", 0) == 0


def test_a_post_with_uploaded_images_hands_the_publisher_their_facts_and_alt_text(
    api: Any, container: Container
) -> None:
    first, second = upload(api, jpeg(1200, 800)), upload(api, jpeg(800, 800))
    status, post = api("POST", "/api/v1/publish/linkedin", {
        "account_ids": ["acc_li"], "text": "Two loaves",
        "media": [{"media_id": first, "alt_text": "A sourdough loaf"}, {"media_id": second}],
    })  # fmt: skip
    assert status == 200
    assert [(a["media_id"], a["width"], a["alt_text"]) for a in post["content"]["attachments"]] == [
        (first, 1200, "A sourdough loaf"), (second, 800, None),
    ]  # fmt: skip
    stored = container.posts.get(_business_of_the_post(container), post["post_id"])
    assert [a.kind for a in stored.content.attachments] == ["image", "image"]
    tags = container.s3.get_object_tagging(
        Bucket=container.settings.media_bucket, Key=stored.content.attachments[0].key
    )["TagSet"]
    assert {"Key": "herald-unused", "Value": "false"} in tags


def _business_of_the_post(container: Container) -> str:
    items = container.table.scan()["Items"]
    return next(str(i["business_id"]) for i in items if i.get("type") == "post")


def test_each_broken_platform_limit_is_a_422_naming_it_and_nothing_is_stored(
    api: Any, container: Container
) -> None:
    clip = upload(api, mp4(1280, 720, seconds=21 * 60, size=300_000))
    document = upload(api, pdf(3))
    status, problem = api("POST", "/api/v1/publish/multi", {
        "account_ids": ["acc_x", "acc_li"], "text": "Our bake, start to end",
        "media": [{"media_id": clip}, {"media_id": document}],
    })  # fmt: skip
    assert status == 422
    found = {(e["field"], e["code"]) for e in problem["errors"]}
    assert ("acc_x.media[0]", "media.too_long") in found  # X: 20 minutes
    assert ("acc_x.media[1]", "media.unsupported_for_platform") in found  # no PDFs on X
    assert ("acc_li.media[0]", "media.mixed") in found  # LinkedIn: a video goes alone
    assert not [i for i in container.table.scan()["Items"] if i.get("type") == "post"]


def test_a_file_not_uploaded_yet_or_unknown_is_refused(api: Any) -> None:
    _, created = api("POST", "/api/v1/media", {})
    status, problem = api("POST", "/api/v1/publish/twitter", {
        "account_ids": ["acc_x"], "text": "soon",
        "media": [{"media_id": created["media_id"]}, {"media_id": "media_" + "0" * 26}],
    })  # fmt: skip
    assert status == 422
    assert [e["code"] for e in problem["errors"]] == ["media.not_uploaded", "media.not_found"]


def test_an_edit_that_breaks_a_limit_is_refused(api: Any, clock: FrozenClock) -> None:
    images = [upload(api, jpeg(400, 400)) for _ in range(5)]
    status, post = api("POST", "/api/v1/schedule", {
        "account_ids": ["acc_x"], "text": "Five loaves", "scheduled_for": _later(clock),
        "media": [{"media_id": m} for m in images[:4]],
    })  # fmt: skip
    assert status == 201
    status, problem = api("PUT", f"/api/v1/schedule/{post['post_id']}", {
        "media": [{"media_id": m} for m in images],
    })  # fmt: skip
    assert status == 422
    assert [e["code"] for e in problem["errors"]] == ["media.too_many"]


def _later(clock: FrozenClock) -> str:
    from datetime import timedelta

    return (clock.now() + timedelta(hours=2)).isoformat()


def test_a_gif_in_a_thread_goes_with_the_tweet_it_names(api: Any) -> None:
    moving = upload(api, gif(frames=4))
    status, post = api("POST", "/api/v1/publish/twitter", {
        "account_ids": ["acc_x"], "thread": ["First", "Second, with a GIF"],
        "media": [{"media_id": moving, "part": 1, "alt_text": "Dough rising"}],
    })  # fmt: skip
    assert status == 200
    assert post["content"]["attachments"][0]["part"] == 1


def test_a_post_whose_media_is_still_processing_is_answered_202_and_queued_for_the_worker(
    api: Any, container: Container
) -> None:
    container.settings.media_inline_wait_seconds = 0
    container.publishers["x"] = ProcessingPlatform("x", polls=1, check_after=30)  # type: ignore[index]
    sent = SentMessages(container)
    clip = upload(api, mp4(1280, 720, seconds=20, size=300_000))
    status, post = api("POST", "/api/v1/publish/twitter", {
        "account_ids": ["acc_x"], "text": "The oven at work", "media": [{"media_id": clip}],
    })  # fmt: skip
    assert status == 202
    assert post["status"] == "publishing"
    assert post["targets"][0]["status"] == "processing"
    ((body, delay),) = sent.messages
    assert (body["post_id"], body["account_ids"], delay) == (post["post_id"], ["acc_x"], 30)


def test_a_short_processing_is_waited_out_by_the_request_itself(
    api: Any, container: Container
) -> None:
    container.publishers["x"] = ProcessingPlatform("x", polls=1, check_after=0.01)  # type: ignore[index]
    clip = upload(api, mp4(1280, 720, seconds=20, size=300_000))
    status, post = api("POST", "/api/v1/publish/twitter", {
        "account_ids": ["acc_x"], "text": "The oven at work", "media": [{"media_id": clip}],
    })  # fmt: skip
    assert (status, post["status"]) == (200, "published")


def test_uploaded_files_and_urls_cannot_be_mixed_in_one_post(api: Any) -> None:
    status, problem = api("POST", "/api/v1/publish/multi", {
        "account_ids": ["acc_x"], "text": "x",
        "media": [{"media_id": "media_" + "0" * 26}, {"url": "https://cdn.example.com/a.jpg"}],
    })  # fmt: skip
    assert status == 422
    assert problem["errors"][0]["code"] == "media.mixed_sources"


def test_a_post_with_large_files_is_handed_to_the_worker_at_once(
    api: Any, container: Container
) -> None:
    container.settings.media_inline_max_bytes = 100_000
    sent = SentMessages(container)
    clip = upload(api, mp4(1280, 720, seconds=20, size=300_000))
    status, post = api("POST", "/api/v1/publish/twitter", {
        "account_ids": ["acc_x"], "text": "The oven at work", "media": [{"media_id": clip}],
    })  # fmt: skip
    assert (status, post["status"], post["targets"][0]["status"]) == (202, "publishing", "pending")
    ((body, delay),) = sent.messages
    assert (body["post_id"], delay) == (post["post_id"], 0)
    assert container.publishers["x"].calls == 0  # type: ignore[attr-defined]
