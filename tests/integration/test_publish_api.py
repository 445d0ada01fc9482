"""The publish, posts and analytics routes through the API Lambda handler, on moto and real
Redis, with stateful fake platforms (the sandbox runs in tests/e2e)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from herald import aio
from herald import container as composition
from herald.accounts import Account, AccountStatus, PlatformName
from herald.admin.commands import create_business
from herald.api.app import create_app
from herald.container import Container
from herald.local.template import LocalResources
from herald.platforms.base import ErrorKind, PlatformError
from herald.settings import Settings
from tests.conftest import REDIS_URL
from tests.fakes.images import FakeImageProbe
from tests.fakes.lambda_events import header, http_event, response_json
from tests.fakes.oauth import topic_reader
from tests.fakes.publishing import FakePublisher

ACCOUNTS: dict[str, PlatformName] = {
    "acc_li": "linkedin",
    "acc_x": "x",
    "acc_fb": "facebook",
    "acc_ig": "instagram",
}
IMAGE = "https://cdn.example.com/loaf.jpg"


@pytest.fixture
def publishers() -> dict[PlatformName, FakePublisher]:
    return {p: FakePublisher(p) for p in ACCOUNTS.values()}


@pytest.fixture
def app_container(
    resources: LocalResources,
    aws: Any,
    redis_sync: redis.Redis,
    publishers: dict[PlatformName, FakePublisher],
) -> Iterator[Container]:
    settings = Settings(
        HERALD_ENV="test",
        TABLE_NAME=resources.table_name,
        EVENTS_TOPIC_ARN=resources.topic_arns["EventsTopic"],
        REDIS_URL=REDIS_URL,
        RATE_LIMIT_ENABLED="false",
        PUBLISH_RETRY_DELAY="0.01",
    )
    built = Container(
        settings, boto_session=aws, publishers=publishers, image_probe=FakeImageProbe()
    )
    composition.set_container(built)
    yield built
    composition.set_container(None)
    aio.run(built.aclose())


@pytest.fixture
def business(app_container: Container) -> dict[str, Any]:
    created = create_business(app_container, "Acme Bakery")
    for account_id, platform in ACCOUNTS.items():
        connect(app_container, created["business_id"], account_id, platform)
    return created


@pytest.fixture
def call(app_container: Container, lambda_context: Any) -> Any:
    from functions.api import app as api_app

    def call(
        method: str,
        path: str,
        business: dict[str, Any],
        body: Any = None,
        *,
        key: str | None = None,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {business['api_key']}"}
        if key:
            headers["Idempotency-Key"] = key
        event = http_event(method, path, headers=headers, body=body, query=query)
        response: dict[str, Any] = api_app.handler(event, lambda_context)
        return response

    return call


def connect(
    container: Container,
    business_id: str,
    account_id: str,
    platform: PlatformName,
    status: AccountStatus = AccountStatus.CONNECTED,
) -> None:
    container.accounts.upsert(
        Account(
            account_id=account_id,
            business_id=business_id,
            platform=platform,
            external_id=f"ext-{account_id}",
            display_name=account_id,
            status=status,
            access_token_enc=container.vault.encrypt(f"token-{account_id}"),
        )
    )


def post_items(container: Container) -> list[dict[str, Any]]:
    return [i for i in container.table.scan()["Items"] if i.get("type") == "post"]


def multi(text: str = "We open a second shop on Friday!", **extra: Any) -> dict[str, Any]:
    return {"account_ids": list(ACCOUNTS), "text": text, "image_url": IMAGE, **extra}


def test_a_multi_publish_to_all_four_kinds_is_200_with_every_target_published(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    response = call("POST", "/api/v1/publish/multi", business, multi())
    body = response_json(response)
    assert response["statusCode"] == 200
    assert header(response, "location") == f"/api/v1/posts/{body['post_id']}"
    assert body["status"] == "published"
    assert {t["account_id"]: t["status"] for t in body["targets"]} == dict.fromkeys(
        ACCOUNTS, "published"
    )
    for publisher in publishers.values():
        assert publisher.texts() == ["We open a second shop on Friday!"]


def test_get_post_shows_each_targets_status_attempts_id_url_and_last_error(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    publishers["x"].fail(PlatformError("x", ErrorKind.DUPLICATE, "duplicate text", status=403))
    posted = response_json(call("POST", "/api/v1/publish/multi", business, multi()))
    response = call("GET", f"/api/v1/posts/{posted['post_id']}", business)
    targets = {t["account_id"]: t for t in response_json(response)["targets"]}
    assert response["statusCode"] == 200
    assert targets["acc_li"]["platform_post_id"] == publishers["linkedin"].live[0].post_id
    assert targets["acc_li"]["url"].startswith("https://linkedin.test/")
    assert targets["acc_li"]["attempts"] == 1
    assert targets["acc_x"]["status"] == "failed"
    assert targets["acc_x"]["error_kind"] == "duplicate"
    assert "duplicate text" in targets["acc_x"]["last_error"]


def test_some_targets_failing_is_a_207_and_all_failing_is_a_502(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    publishers["x"].fail(PlatformError("x", ErrorKind.INVALID_CONTENT, "refused"))
    partial = call("POST", "/api/v1/publish/multi", business, multi("one"))
    assert partial["statusCode"] == 207
    assert response_json(partial)["status"] == "partially_published"

    publishers["linkedin"].fail(PlatformError("linkedin", ErrorKind.PLATFORM_ERROR, "500"))
    failed = call(
        "POST", "/api/v1/publish/linkedin", business, {"account_ids": ["acc_li"], "text": "two"}
    )
    assert failed["statusCode"] == 502
    assert response_json(failed)["status"] == "failed"


def test_every_content_problem_of_every_target_is_reported_at_once_and_nothing_is_stored(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    publishers: dict[str, FakePublisher],
) -> None:
    body = {"account_ids": ["acc_x", "acc_ig"], "text": "x" * 300}  # too long, no image
    response = call("POST", "/api/v1/publish/multi", business, body)
    problem = response_json(response)
    assert response["statusCode"] == 422
    assert header(response, "content-type") == "application/problem+json"
    fields = {e["field"] for e in problem["errors"]}
    assert {"acc_x.text", "acc_ig.image_url"} <= fields
    assert post_items(app_container) == []
    assert all(p.calls == 0 for p in publishers.values())


def test_an_image_url_into_the_vpc_is_refused_before_anything_is_stored_or_fetched(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    publishers: dict[str, FakePublisher],
) -> None:
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    response = call("POST", "/api/v1/publish/multi", business, multi(image_url=metadata))
    problem = response_json(response)
    assert response["statusCode"] == 422
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        (f"{account_id}.image_url", "private_host") for account_id in ACCOUNTS
    }
    assert post_items(app_container) == []
    assert all(p.calls == 0 for p in publishers.values())


@pytest.mark.parametrize("route", ["twitter", "linkedin", "multi"])
def test_a_link_on_a_post_with_no_facebook_target_is_refused_not_dropped(
    call: Any, business: dict[str, Any], app_container: Container, route: str
) -> None:
    account = "acc_li" if route == "linkedin" else "acc_x"
    body = {"account_ids": [account], "text": "New hours", "link": "https://bakery.test/hours"}

    response = call("POST", f"/api/v1/publish/{route}", business, body)

    assert response["statusCode"] == 422
    [error] = response_json(response)["errors"]
    assert error["field"] == "link"
    assert "put the URL in the text" in error["message"]
    assert post_items(app_container) == []


def test_unknown_wrong_platform_and_needs_reauth_accounts_are_refused_together(
    call: Any, business: dict[str, Any], app_container: Container
) -> None:
    connect(app_container, business["business_id"], "acc_x2", "x", AccountStatus.NEEDS_REAUTH)
    body = {"account_ids": ["acc_nope", "acc_li", "acc_x2"], "text": "hello"}
    response = call("POST", "/api/v1/publish/twitter", business, body)
    errors = {e["field"]: e["code"] for e in response_json(response)["errors"]}
    assert response["statusCode"] == 422
    assert errors == {
        "account_ids[0]": "unknown_account",
        "account_ids[1]": "wrong_platform",
        "account_ids[2]": "needs_reauth",
    }
    assert post_items(app_container) == []


def test_another_business_cannot_publish_with_or_read_this_ones_accounts_and_posts(
    call: Any, business: dict[str, Any], app_container: Container
) -> None:
    other = create_business(app_container, "Other Co")
    refused = call(
        "POST", "/api/v1/publish/linkedin", other, {"account_ids": ["acc_li"], "text": "hi"}
    )
    assert refused["statusCode"] == 422
    posted = response_json(call("POST", "/api/v1/publish/multi", business, multi()))
    assert call("GET", f"/api/v1/posts/{posted['post_id']}", other)["statusCode"] == 404
    assert call("POST", f"/api/v1/posts/{posted['post_id']}/retry", other)["statusCode"] == 404


def test_the_post_is_stored_before_any_platform_is_called(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    publishers: dict[str, FakePublisher],
) -> None:
    seen: list[str] = []

    def look() -> None:
        [item] = post_items(app_container)
        seen.append(item["targets"]["acc_li"]["status"])

    publishers["linkedin"].fail(look)  # runs inside the platform call, then posts
    call("POST", "/api/v1/publish/linkedin", business, {"account_ids": ["acc_li"], "text": "hi"})
    assert seen == ["publishing"]


def test_retry_publishes_only_the_failed_targets(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    publishers["x"].fail(PlatformError("x", ErrorKind.TRANSIENT, "503"), times=3)
    first = response_json(call("POST", "/api/v1/publish/multi", business, multi()))
    assert first["status"] == "partially_published"
    response = call("POST", f"/api/v1/posts/{first['post_id']}/retry", business)
    assert response["statusCode"] == 200
    assert response_json(response)["status"] == "published"
    assert publishers["linkedin"].calls == 1
    assert publishers["x"].calls == 4
    again = call("POST", f"/api/v1/posts/{first['post_id']}/retry", business)
    assert again["statusCode"] == 409


def test_retry_leaves_unconfirmed_targets_to_a_person(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    publishers["x"].fail(PlatformError("x", ErrorKind.AMBIGUOUS, "read timeout"))
    body = {"account_ids": ["acc_x"], "text": "maybe"}
    first = response_json(call("POST", "/api/v1/publish/twitter", business, body))
    assert first["targets"][0]["status"] == "unconfirmed"
    response = call("POST", f"/api/v1/posts/{first['post_id']}/retry", business)
    assert response["statusCode"] == 409
    assert publishers["x"].calls == 1


def test_retry_recovers_a_publish_whose_lambda_died_without_posting_twice(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    publishers: dict[str, FakePublisher],
) -> None:
    from herald.platforms.base import Content
    from herald.posts import Post, PostStatus, Target, TargetStatus
    from tests.fakes.publishing import Live

    # The Lambda claimed the target, LinkedIn took the post, and the Lambda died before writing.
    claimed = "2020-01-01T00:00:00.000000Z"
    post = Post(
        post_id="post_01jf0000000000000000000000",
        business_id=business["business_id"],
        status=PostStatus.PUBLISHING,
        content=Content(text="lost answer"),
        targets={
            "acc_li": Target(
                "acc_li", "linkedin", TargetStatus.PUBLISHING, attempts=1, claimed_at=claimed
            )
        },
        created_at=claimed,
        updated_at=claimed,
    )
    app_container.posts.create(post)
    publishers["linkedin"].live.append(Live("urn:li:share:1", "lost answer", "acc_li"))

    response = call("POST", f"/api/v1/posts/{post.post_id}/retry", business)
    assert response["statusCode"] == 200, response["body"]
    assert response_json(response)["targets"][0]["platform_post_id"] == "urn:li:share:1"
    assert publishers["linkedin"].calls == 0


def test_final_outcomes_are_announced_on_the_topic(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    aws: Any,
    publishers: dict[str, FakePublisher],
) -> None:
    read = topic_reader(app_container, aws)
    publishers["instagram"].fail(PlatformError("instagram", ErrorKind.DUPLICATE, "506"))
    posted = response_json(call("POST", "/api/v1/publish/multi", business, multi()))
    [event] = [e for e in read() if e["type"].startswith("post.")]
    assert event["type"] == "post.partially_published"
    assert event["business_id"] == business["business_id"]
    assert event["data"]["post_id"] == posted["post_id"]
    assert event["event_id"].startswith("evt_")
    assert any("instagram" in r for r in event["data"]["reasons"])


# --- Idempotency-Key ------------------------------------------------------------------------
def test_the_same_key_and_body_returns_the_first_response_without_publishing_again(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    first = call("POST", "/api/v1/publish/multi", business, multi(), key="k-1")
    # Same JSON, keys in another order: the same request.
    reordered = dict(reversed(list(multi().items())))
    second = call("POST", "/api/v1/publish/multi", business, reordered, key="k-1")
    assert second["statusCode"] == first["statusCode"] == 200
    assert response_json(second) == response_json(first)
    assert header(second, "idempotent-replayed") == "true"
    assert header(second, "location") == header(first, "location")
    assert all(p.calls == 1 for p in publishers.values())


def test_the_same_key_with_another_body_is_a_422(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    call("POST", "/api/v1/publish/multi", business, multi(), key="k-1")
    other = call("POST", "/api/v1/publish/multi", business, multi("changed"), key="k-1")
    assert other["statusCode"] == 422
    assert response_json(other)["type"].endswith("/idempotency-conflict")
    assert publishers["x"].calls == 1


def test_keys_are_scoped_per_business(
    call: Any, business: dict[str, Any], app_container: Container
) -> None:
    other = create_business(app_container, "Other Co")
    connect(app_container, other["business_id"], "acc_other", "linkedin")
    call("POST", "/api/v1/publish/multi", business, multi(), key="shared")
    body = {"account_ids": ["acc_other"], "text": "hello"}
    response = call("POST", "/api/v1/publish/linkedin", other, body, key="shared")
    assert response["statusCode"] == 200
    assert header(response, "idempotent-replayed") is None


def test_a_refusal_is_replayed_too(call: Any, business: dict[str, Any]) -> None:
    body = {"account_ids": ["acc_nope"], "text": "hi"}
    first = call("POST", "/api/v1/publish/linkedin", business, body, key="k-2")
    second = call("POST", "/api/v1/publish/linkedin", business, body, key="k-2")
    assert first["statusCode"] == second["statusCode"] == 422
    assert header(second, "idempotent-replayed") == "true"


def test_the_same_key_sent_concurrently_publishes_once_and_the_other_gets_409(
    app_container: Container, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    for publisher in publishers.values():
        publisher.delay = 0.3
    app = create_app(app_container)
    headers = {"Authorization": f"Bearer {business['api_key']}", "Idempotency-Key": "k-c"}

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:

            async def send() -> httpx.Response:
                return await client.post("/api/v1/publish/multi", json=multi(), headers=headers)

            return list(await asyncio.gather(send(), send()))

    responses = aio.run(both())
    # Whichever took the key publishes (for 300 ms); the other arrives meanwhile.
    assert sorted(r.status_code for r in responses) == [200, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.headers["content-type"] == "application/problem+json"
    assert all(p.calls == 1 for p in publishers.values())
    after = aio.run(_replay(app, headers))
    assert after.status_code == 200
    assert after.headers["idempotent-replayed"] == "true"


async def _replay(app: Any, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.post("/api/v1/publish/multi", json=multi(), headers=headers)


# --- analytics --------------------------------------------------------------------------------
def test_analytics_counts_per_platform_and_caches_for_five_minutes(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher], redis_sync: Any
) -> None:
    publishers["x"].fail(PlatformError("x", ErrorKind.INVALID_CONTENT, "no"))
    call("POST", "/api/v1/publish/multi", business, multi("one"))
    call("POST", "/api/v1/publish/multi", business, multi("two"))
    response = call("GET", "/api/v1/analytics/summary", business, query={"window": "7d"})
    body = response_json(response)
    by_platform = {p["platform"]: p for p in body["platforms"]}
    assert response["statusCode"] == 200
    assert body["cached"] is False
    assert (by_platform["x"]["published"], by_platform["x"]["failed"]) == (1, 1)
    assert by_platform["x"]["success_rate"] == 0.5
    assert by_platform["linkedin"]["success_rate"] == 1.0
    assert by_platform["linkedin"]["latency_p50_seconds"] is not None
    assert 0 < redis_sync.ttl(f"herald:analytics:{{{business['business_id']}}}:7d") <= 300

    call("POST", "/api/v1/publish/multi", business, multi("three"))
    cached = response_json(
        call("GET", "/api/v1/analytics/summary", business, query={"window": "7d"})
    )
    assert cached["cached"] is True
    assert {p["platform"]: p for p in cached["platforms"]}["linkedin"]["published"] == 2


def test_analytics_refuses_a_window_it_cannot_read(call: Any, business: dict[str, Any]) -> None:
    response = call("GET", "/api/v1/analytics/summary", business, query={"window": "forever"})
    assert response["statusCode"] == 422
    assert response_json(response)["errors"][0]["field"] == "window"


def test_openapi_documents_the_publish_routes_with_examples(
    call: Any, business: dict[str, Any]
) -> None:
    from functions.api import app as api_app

    spec = api_app.app.openapi()
    assert {"/api/v1/publish/multi", "/api/v1/posts/{post_id}/retry"} <= set(spec["paths"])
    schema = spec["components"]["schemas"]["TwitterPublish"]
    assert any("thread" in example for example in schema["examples"])
    assert json.dumps(spec)  # serialisable


class _Killed(BaseException):
    """The request's end: no handler of Herald's catches it."""


def test_a_retry_whose_request_died_is_resumed_by_its_key_not_refused_or_repeated(
    app_container: Container, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    publishers["x"].fail(PlatformError("x", ErrorKind.TRANSIENT, "503"), times=3)
    first = response_json(
        _send(
            app_container,
            business,
            "/api/v1/publish/twitter",
            {"account_ids": ["acc_x"], "text": "hi"},
        )
    )
    path = f"/api/v1/posts/{first['post_id']}/retry"
    publishers["x"].fail(_Killed(), lands=True)  # X takes the tweet; the request dies
    with pytest.raises(_Killed):
        aio.run(_post(app_container, business, path, key="r-1"))

    resumed = aio.run(_post(app_container, business, path, key="r-1"))

    assert resumed.status_code == 202, resumed.text
    assert resumed.json()["targets"][0]["status"] == "publishing"
    assert publishers["x"].texts() == ["hi"]


def _send(
    container: Container, business: dict[str, Any], path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = aio.run(_post(container, business, path, body=body))
    return {"statusCode": response.status_code, "body": response.text}


async def _post(
    container: Container,
    business: dict[str, Any],
    path: str,
    *,
    key: str | None = None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {business['api_key']}"}
    if key:
        headers["Idempotency-Key"] = key
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.post(path, json=body, headers=headers)


# --- variants: each network's own content ---------------------------------------------------
def test_each_target_publishes_its_platforms_variant_and_the_rest_the_shared_text(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    body = {
        "account_ids": ["acc_li", "acc_x", "acc_fb"],
        "text": "We open a second shop on Friday, on the corner of Elm Street.",
        "variants": {
            "platform:x": {"text": "Second shop Friday! #bread"},
            "account:acc_fb": {"text": "Friday: shop number two.", "link": "https://shop.test"},
        },
    }
    response = call("POST", "/api/v1/publish/multi", business, body)

    assert response["statusCode"] == 200, response_json(response)
    assert publishers["linkedin"].texts() == [body["text"]]
    assert publishers["x"].texts() == ["Second shop Friday! #bread"]
    assert publishers["facebook"].texts() == ["Friday: shop number two."]
    assert response_json(response)["content"]["variants"]["account:acc_fb"] == {
        "text": "Friday: shop number two.",
        "link": "https://shop.test",
    }


def test_an_override_too_long_for_its_platform_is_a_422_naming_it_and_its_target(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    publishers: dict[str, FakePublisher],
) -> None:
    body = {
        "account_ids": ["acc_li", "acc_x"],
        "text": "Shared",
        "variants": {"platform:x": {"text": "x" * 300}},
    }
    response = call("POST", "/api/v1/publish/multi", business, body)

    assert response["statusCode"] == 422
    assert response_json(response)["errors"] == [
        {
            "field": "variants.platform:x.text",
            "message": "300 weighted characters; X allows 280 (URLs count 23, CJK and emoji 2)",
            "code": "too_long",
            "target": "acc_x",
        }
    ]
    assert post_items(app_container) == []
    assert all(p.calls == 0 for p in publishers.values())


def test_a_variant_for_an_account_the_post_does_not_publish_to_is_a_422(
    call: Any, business: dict[str, Any]
) -> None:
    body = {
        "account_ids": ["acc_li"],
        "text": "Shared",
        "variants": {"account:acc_x": {"text": "Not sent"}},
    }
    response = call("POST", "/api/v1/publish/linkedin", business, body)
    assert response["statusCode"] == 422
    assert [e["field"] for e in response_json(response)["errors"]] == ["variants.account:acc_x"]


def test_a_variant_key_that_is_neither_a_platform_nor_an_account_is_a_422(
    call: Any, business: dict[str, Any]
) -> None:
    body = {"account_ids": ["acc_li"], "text": "Shared", "variants": {"x": {"text": "?"}}}
    response = call("POST", "/api/v1/publish/multi", business, body)
    assert response["statusCode"] == 422
    assert response_json(response)["errors"][0]["field"].startswith("variants.x")


def test_an_unknown_field_in_a_variant_is_a_422(call: Any, business: dict[str, Any]) -> None:
    body = {
        "account_ids": ["acc_li"],
        "text": "Shared",
        "variants": {"platform:linkedin": {"txt": "typo"}},
    }
    response = call("POST", "/api/v1/publish/multi", business, body)
    assert response["statusCode"] == 422
    assert response_json(response)["errors"][0]["field"] == "variants.platform:linkedin.txt"


def test_instagram_takes_its_own_image_while_linkedin_posts_text_alone(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    body = {
        "account_ids": ["acc_li", "acc_ig"],
        "text": "New loaves",
        "variants": {"platform:instagram": {"image_url": IMAGE}},
    }
    response = call("POST", "/api/v1/publish/multi", business, body)
    assert response["statusCode"] == 200, response_json(response)
    assert publishers["instagram"].texts() == ["New loaves"]


# --- first comments -------------------------------------------------------------------------
def test_a_first_comment_goes_out_under_each_published_post_with_its_own_outcome(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    body = {
        "account_ids": ["acc_li", "acc_x"],
        "text": "Second shop opens Friday",
        "first_comment": "Directions: https://shop.test/map",
        "variants": {"platform:x": {"first_comment": "Map: https://shop.test/map"}},
    }
    response = call("POST", "/api/v1/publish/multi", business, body)
    posted = response_json(response)
    targets = {t["account_id"]: t for t in posted["targets"]}

    assert response["statusCode"] == 200, posted
    li_post, x_post = publishers["linkedin"].live[0].post_id, publishers["x"].live[0].post_id
    assert publishers["linkedin"].comments == [
        ("acc_li", li_post, "Directions: https://shop.test/map")
    ]
    assert publishers["x"].comments == [("acc_x", x_post, "Map: https://shop.test/map")]
    assert targets["acc_li"]["first_comment"]["status"] == "published"
    assert targets["acc_li"]["first_comment"]["platform_comment_id"] == f"{li_post}-comment-1"
    assert targets["acc_x"]["first_comment"]["attempts"] == 1


def test_a_first_comment_that_fails_leaves_the_post_published_and_is_announced(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    aws: Any,
    publishers: dict[str, FakePublisher],
) -> None:
    publishers["linkedin"].comment_failures.append(
        PlatformError("linkedin", ErrorKind.PLATFORM_ERROR, "comments are off", status=403)
    )
    events = topic_reader(app_container, aws)
    body = {"account_ids": ["acc_li"], "text": "Hello", "first_comment": "First!"}
    response = call("POST", "/api/v1/publish/linkedin", business, body)
    posted = response_json(response)
    [target] = posted["targets"]

    assert response["statusCode"] == 200
    assert (posted["status"], target["status"]) == ("published", "published")
    assert target["first_comment"]["status"] == "failed"
    assert "comments are off" in target["first_comment"]["last_error"]
    failed = [e for e in events() if e["type"] == "post.comment_failed"]
    assert [e["data"]["account_id"] for e in failed] == ["acc_li"]


def test_a_first_comment_that_failed_is_published_by_a_retry_of_the_post(
    call: Any, business: dict[str, Any], publishers: dict[str, FakePublisher]
) -> None:
    publishers["linkedin"].comment_failures.append(
        PlatformError("linkedin", ErrorKind.PLATFORM_ERROR, "comments are off", status=403)
    )
    body = {"account_ids": ["acc_li"], "text": "Hello", "first_comment": "First!"}
    posted = response_json(call("POST", "/api/v1/publish/linkedin", business, body))

    retried = call("POST", f"/api/v1/posts/{posted['post_id']}/retry", business)

    assert retried["statusCode"] == 200, response_json(retried)
    [target] = response_json(retried)["targets"]
    assert target["first_comment"]["status"] == "published"
    assert target["first_comment"]["attempts"] == 2
    assert len(publishers["linkedin"].live) == 1  # the post itself went out once
    assert len(publishers["linkedin"].comments) == 1


def test_a_first_comment_too_long_for_x_is_a_422_on_that_target(
    call: Any, business: dict[str, Any]
) -> None:
    body = {"account_ids": ["acc_li", "acc_x"], "text": "Hi", "first_comment": "x" * 300}
    response = call("POST", "/api/v1/publish/multi", business, body)
    assert response["statusCode"] == 422
    assert [(e["field"], e["code"]) for e in response_json(response)["errors"]] == [
        ("acc_x.first_comment", "too_long")
    ]


def test_a_first_comment_refused_for_a_revoked_token_marks_the_account_for_reconnecting(
    call: Any,
    business: dict[str, Any],
    app_container: Container,
    publishers: dict[str, FakePublisher],
) -> None:
    publishers["linkedin"].comment_failures.append(
        PlatformError("linkedin", ErrorKind.AUTH_REVOKED, "token revoked", status=401)
    )
    body = {"account_ids": ["acc_li"], "text": "Hello", "first_comment": "First!"}
    posted = response_json(call("POST", "/api/v1/publish/linkedin", business, body))

    [target] = posted["targets"]
    assert (posted["status"], target["first_comment"]["error_kind"]) == (
        "published",
        "auth_revoked",
    )
    account = app_container.accounts.get(business["business_id"], "acc_li")
    assert account.status == AccountStatus.NEEDS_REAUTH
