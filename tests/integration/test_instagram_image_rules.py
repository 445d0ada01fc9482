"""Instagram's image rules at creation: JPEG only, at most 8 MiB, 4:5 to 1.91:1, through the API
handler (publish now, schedule, edit) with the image read through an injected probe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.local.sandbox.images import PNG, gif, jpeg
from herald.platforms.base import ErrorKind, PlatformError
from tests.conftest import LambdaContext
from tests.fakes.images import FakeImageProbe
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.scheduling import connect_account

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
IMAGE = "https://cdn.example.com/loaf.jpg"
LATER = "2026-12-04T09:00:00Z"


@pytest.fixture
def probe(container: Container) -> FakeImageProbe:
    container.__dict__["clock"] = FrozenClock(START)
    found: FakeImageProbe = container.image_probe  # type: ignore[assignment]
    return found


@pytest.fixture
def owner(container: Container, probe: FakeImageProbe) -> dict[str, Any]:
    created = create_business(container, "Acme Bakery")
    created["instagram"] = connect_account(container, created["business_id"], "instagram")
    created["linkedin"] = connect_account(container, created["business_id"], "linkedin")
    return created


@pytest.fixture
def call(owner: dict[str, Any]) -> Any:
    from functions.api import app

    def do(method: str, path: str, body: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {owner['api_key']}"}
        response = app.handler(
            http_event(method, path, headers=headers, body=body), LambdaContext()
        )
        return response["statusCode"], response_json(response)

    return do


def schedule(owner: dict[str, Any], *platforms: str, image: str = IMAGE) -> dict[str, Any]:
    ids = [owner[p] for p in platforms or ("instagram",)]
    return {"account_ids": ids, "text": "Loaves", "image_url": image, "scheduled_for": LATER}


def problems(body: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in body["errors"]]


def posts_stored(container: Container) -> int:
    items = container.table.scan(
        FilterExpression="#t = :post",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":post": "post"},
    )["Items"]
    return len(items)


def test_a_jpeg_in_range_is_scheduled_after_one_read_of_the_image(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe
) -> None:
    probe.images[IMAGE] = jpeg(1080, 1350)  # 4:5, the tallest Instagram takes

    status, _ = call("POST", "/api/v1/schedule", schedule(owner))

    assert status == 201
    assert probe.probed == [IMAGE]


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (PNG, "not_jpeg", "JPEG images only"),
        (gif(frames=3), "not_jpeg", "is a GIF of 320x320"),
        (jpeg(1080, 1920), "aspect_ratio", "1080x1920 (0.56:1)"),  # 9:16, a story's shape
        (jpeg(2000, 1000), "aspect_ratio", "2000x1000 (2.00:1)"),
    ],
)
def test_an_image_instagram_refuses_is_a_422_that_says_why_and_nothing_is_stored(
    call: Any,
    owner: dict[str, Any],
    probe: FakeImageProbe,
    container: Container,
    data: bytes,
    code: str,
    words: str,
) -> None:
    probe.images[IMAGE] = data

    status, body = call("POST", "/api/v1/schedule", schedule(owner))

    assert status == 422
    [error] = body["errors"]
    assert (error["field"], error["code"]) == (f"{owner['instagram']}.image_url", code)
    assert words in error["message"]
    assert IMAGE in error["message"]
    assert posts_stored(container) == 0


def test_an_image_over_8_mib_is_refused_as_too_large(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe
) -> None:
    probe.images[IMAGE] = PlatformError(
        "instagram", ErrorKind.INVALID_CONTENT, "image_url is larger than 8 MiB",
        platform_code="too_large",
    )  # fmt: skip

    status, body = call("POST", "/api/v1/schedule", schedule(owner))

    assert status == 422
    assert problems(body) == [(f"{owner['instagram']}.image_url", "too_large")]


def test_an_image_that_cannot_be_fetched_is_a_422_naming_it_and_why(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe
) -> None:
    probe.images[IMAGE] = PlatformError("instagram", ErrorKind.TRANSIENT, "image host answered 503")

    status, body = call("POST", "/api/v1/schedule", schedule(owner))

    assert status == 422
    [error] = body["errors"]
    assert error["code"] == "unreachable"
    assert IMAGE in error["message"]
    assert "answered 503" in error["message"]


def test_only_instagram_targets_read_the_image(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe
) -> None:
    probe.images[IMAGE] = PNG

    status, _ = call("POST", "/api/v1/schedule", schedule(owner, "linkedin"))

    assert status == 201
    assert probe.probed == []


def test_publish_now_applies_the_same_rules(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe, container: Container
) -> None:
    probe.images[IMAGE] = jpeg(1080, 1920)
    body = {"account_ids": [owner["instagram"]], "text": "Now", "image_url": IMAGE}

    status, answer = call("POST", "/api/v1/publish/meta", body)

    assert status == 422
    assert problems(answer) == [(f"{owner['instagram']}.image_url", "aspect_ratio")]
    assert posts_stored(container) == 0


def test_an_edit_to_an_image_instagram_refuses_is_refused_and_the_post_kept(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe
) -> None:
    status, created = call("POST", "/api/v1/schedule", schedule(owner))
    assert status == 201
    probe.images["https://cdn.example.com/tall.jpg"] = jpeg(1080, 1920)

    status, body = call(
        "PUT", f"/api/v1/schedule/{created['post_id']}",
        {"image_url": "https://cdn.example.com/tall.jpg"},
    )  # fmt: skip

    assert status == 422
    assert problems(body) == [(f"{owner['instagram']}.image_url", "aspect_ratio")]


def test_moving_a_post_does_not_read_its_image_again(
    call: Any, owner: dict[str, Any], probe: FakeImageProbe
) -> None:
    _, created = call("POST", "/api/v1/schedule", schedule(owner))

    status, _ = call(
        "PUT", f"/api/v1/schedule/{created['post_id']}", {"scheduled_for": "2026-12-05T09:00:00Z"}
    )

    assert status == 200
    assert probe.probed == [IMAGE]
