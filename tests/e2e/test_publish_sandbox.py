"""Publishing end to end: accounts connected through the real OAuth flows, the API Lambda handler,
the engine, the real publishers, moto and Redis, and the platform sandbox answering over HTTP (in
process, through httpx's ASGI transport), told to fail where a scenario needs it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from herald.accounts import AccountStatus
from herald.container import Container
from herald.local.sandbox.faults import Fault
from herald.local.sandbox.state import SandboxState
from herald.local.template import LocalResources
from herald.settings import Settings
from tests.fakes import oauth
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.oauth import (
    SANDBOX,
    bearer,
    connect_through_api,
    sandbox_settings,
    topic_reader,
)

# The shared fixtures of the OAuth tests: a container whose platforms are the in-process sandbox.
api = oauth.api
business = oauth.business
oauth_clock = oauth.oauth_clock
oauth_container = oauth.oauth_container
sandbox = oauth.sandbox
sandbox_app = oauth.sandbox_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

IMAGE = f"{SANDBOX}/_sandbox/images/loaf.jpg"  # a JPEG Instagram takes


@pytest.fixture
def oauth_settings(resources: LocalResources) -> Settings:
    return sandbox_settings(resources, PUBLISH_RETRY_DELAY="0.01")


@pytest.fixture
def accounts(
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    sandbox_app: Any,
    oauth_container: Container,
) -> dict[str, str]:
    """Connect LinkedIn, X and Meta through their OAuth flows: account id by platform."""
    for platform in ("linkedin", "x", "meta"):
        connect_through_api(api, lambda_context, business, sandbox_app, platform)
    found: dict[str, str] = {}
    for account in oauth_container.accounts.list_for_business(business["business_id"]):
        # The first Page is the one with an Instagram account.
        if account.platform == "facebook" and account.external_id != "200000000000001":
            continue
        found[account.platform] = account.account_id
    assert set(found) == {"linkedin", "x", "facebook", "instagram"}
    return found


@pytest.fixture
def publish(api: Any, lambda_context: Any, business: dict[str, Any]) -> Callable[..., Any]:
    def publish(route: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        headers = bearer(business) | ({"Idempotency-Key": key} if key else {})
        event = http_event("POST", f"/api/v1/{route}", headers=headers, body=body)
        response: dict[str, Any] = api(event, lambda_context)
        return response

    return publish


def fail(sandbox_app: Any, **fault: Any) -> None:
    from herald.local.sandbox.records import Publishing

    if not hasattr(sandbox_app.state, "publishing"):
        sandbox_app.state.publishing = Publishing()
    sandbox_app.state.publishing.faults.add(Fault(**fault))


def posts_on(sandbox: SandboxState, platform: str) -> list[dict[str, Any]]:
    return [p for p in sandbox.posts.values() if p["platform"] == platform]


def targets_of(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["platform"]: t for t in response_json(response)["targets"]}


def test_one_post_goes_to_all_four_account_kinds(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState
) -> None:
    body = {
        "account_ids": list(accounts.values()),
        "text": "Grand opening Friday",
        "image_url": IMAGE,
    }
    response = publish("publish/multi", body)
    assert response["statusCode"] == 200, response["body"]
    targets = targets_of(response)
    for platform in ("linkedin", "x", "facebook", "instagram"):
        [live] = posts_on(sandbox, platform)
        assert live["text"] == "Grand opening Friday"
        assert targets[platform]["platform_post_id"] == live["id"]
        assert targets[platform]["url"] == live["url"]


def test_a_three_tweet_thread_goes_out_as_a_reply_chain(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState
) -> None:
    thread = ["1/3 How we bake", "2/3 Flour, water, salt", "3/3 And patience"]
    response = publish("publish/twitter", {"account_ids": [accounts["x"]], "thread": thread})
    assert response["statusCode"] == 200, response["body"]
    tweets = posts_on(sandbox, "x")
    assert [t["text"] for t in tweets] == thread
    assert [t["reply_to"] for t in tweets] == [None, tweets[0]["id"], tweets[1]["id"]]
    assert targets_of(response)["x"]["part_ids"] == [t["id"] for t in tweets]


def test_a_thread_whose_second_tweet_fails_resumes_on_retry_without_reposting_the_first(
    publish: Any,
    api: Any,
    lambda_context: Any,
    business: dict[str, Any],
    accounts: dict[str, str],
    sandbox: SandboxState,
    sandbox_app: Any,
    oauth_container: Container,
) -> None:
    async def after_first_tweet(response: httpx.Response) -> None:
        confirmed = response.request.url.path == "/2/tweets" and response.status_code == 201
        if confirmed and len(posts_on(sandbox, "x")) == 1:
            fail(sandbox_app, kind="500", platform="x", count=3)  # every in-process attempt

    oauth_container.http.event_hooks["response"].append(after_first_tweet)
    thread = ["1/3 Our story", "2/3 The oven", "3/3 The shop"]
    first = publish("publish/twitter", {"account_ids": [accounts["x"]], "thread": thread})
    assert first["statusCode"] == 502
    target = targets_of(first)["x"]
    assert (target["status"], target["error_kind"], target["attempts"]) == (
        "failed",
        "transient",
        3,
    )
    assert len(target["part_ids"]) == 1

    post_id = response_json(first)["post_id"]
    retried = api(
        http_event("POST", f"/api/v1/posts/{post_id}/retry", headers=bearer(business)),
        lambda_context,
    )
    assert retried["statusCode"] == 200, retried["body"]
    tweets = posts_on(sandbox, "x")
    assert [t["text"] for t in tweets] == thread  # tweet 1 once, then 2 and 3
    assert [t["reply_to"] for t in tweets] == [None, tweets[0]["id"], tweets[1]["id"]]


def test_a_429_is_retried_after_the_wait_the_platform_asked_for(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState, sandbox_app: Any
) -> None:
    fail(sandbox_app, kind="429", platform="linkedin", retry_after=1.0)
    started = time.monotonic()
    response = publish("publish/linkedin", {"account_ids": [accounts["linkedin"]], "text": "Hi"})
    assert response["statusCode"] == 200, response["body"]
    assert time.monotonic() - started >= 1.0
    assert targets_of(response)["linkedin"]["attempts"] == 2
    assert len(posts_on(sandbox, "linkedin")) == 1


def test_a_revoked_token_fails_the_target_and_marks_the_account_needs_reauth(
    publish: Any,
    accounts: dict[str, str],
    sandbox_app: Any,
    oauth_container: Container,
    business: dict[str, Any],
) -> None:
    fail(sandbox_app, kind="401", platform="facebook")
    body = {"account_ids": [accounts["facebook"], accounts["linkedin"]], "text": "Open today"}
    response = publish("publish/multi", body)
    assert response["statusCode"] == 207
    assert targets_of(response)["facebook"]["error_kind"] == "auth_revoked"
    account = oauth_container.accounts.get(business["business_id"], accounts["facebook"])
    assert account.status is AccountStatus.NEEDS_REAUTH
    refused = publish("publish/meta", {"account_ids": [accounts["facebook"]], "text": "Again"})
    assert refused["statusCode"] == 422
    assert response_json(refused)["errors"][0]["code"] == "needs_reauth"


def test_a_meta_duplicate_is_a_failure_for_good_not_retried(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState
) -> None:
    body = {"account_ids": [accounts["facebook"]], "text": "Same words twice"}
    assert publish("publish/meta", body)["statusCode"] == 200
    calls_before = sandbox.calls.copy()
    second = publish("publish/meta", body)
    assert second["statusCode"] == 502
    target = targets_of(second)["facebook"]
    assert (target["error_kind"], target["attempts"]) == ("duplicate", 1)
    assert "506" in target["last_error"]
    assert len(posts_on(sandbox, "facebook")) == 1
    assert sum((sandbox.calls - calls_before).values()) >= 1


def test_a_dropped_connection_after_the_post_landed_is_reconciled_not_reposted(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState, sandbox_app: Any
) -> None:
    fail(sandbox_app, kind="drop", platform="x")
    response = publish(
        "publish/twitter", {"account_ids": [accounts["x"]], "text": "Hot cross buns"}
    )
    assert response["statusCode"] == 200, response["body"]
    [tweet] = posts_on(sandbox, "x")
    assert targets_of(response)["x"]["platform_post_id"] == tweet["id"]


def test_the_same_idempotency_key_twice_publishes_once(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState
) -> None:
    body = {"account_ids": [accounts["linkedin"], accounts["x"]], "text": "Once only"}
    first = publish("publish/multi", body, key="launch-1")
    second = publish("publish/multi", body, key="launch-1")
    assert first["statusCode"] == second["statusCode"] == 200
    assert response_json(first) == response_json(second)
    assert len(posts_on(sandbox, "linkedin")) == len(posts_on(sandbox, "x")) == 1


def test_outcomes_reach_the_topic_with_stable_ids(
    publish: Any,
    accounts: dict[str, str],
    oauth_container: Container,
    aws: Any,
    sandbox_app: Any,
) -> None:
    read = topic_reader(oauth_container, aws)
    fail(sandbox_app, kind="500", platform="instagram", count=3)
    body = {
        "account_ids": [accounts["instagram"], accounts["linkedin"]],
        "text": "Hi",
        "image_url": IMAGE,
    }
    posted = response_json(publish("publish/multi", body))
    [event] = [e for e in read() if e["type"].startswith("post.")]
    assert event["type"] == "post.partially_published"
    assert event["data"]["post_id"] == posted["post_id"]


def test_a_sunset_linkedin_version_fails_the_target_and_tells_the_operators(
    publish: Any,
    accounts: dict[str, str],
    oauth_container: Container,
    aws: Any,
    sandbox: SandboxState,
) -> None:
    read = topic_reader(oauth_container, aws)
    # 202511 was sunset on 2026-11-16: the sandbox answers 426, as LinkedIn does.
    oauth_container.settings = oauth_container.settings.model_copy(
        update={"linkedin_version": "202511"}
    )
    oauth_container.__dict__.pop("publishers", None)
    body = {"account_ids": [accounts["linkedin"], accounts["x"]], "text": "Versions move"}

    response = publish("publish/multi", body)

    targets = targets_of(response)
    assert targets["linkedin"]["status"] == "failed"
    assert targets["linkedin"]["error_kind"] == "platform_contract"
    assert "LINKEDIN_VERSION" in targets["linkedin"]["last_error"]
    assert targets["x"]["status"] == "published"
    assert posts_on(sandbox, "linkedin") == []
    [action] = [e for e in read() if e["type"] == "platform.action_required"]
    assert action["data"]["platform"] == "linkedin"


def test_an_instagram_image_the_sandbox_serves_in_the_wrong_shape_is_refused_at_creation(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState
) -> None:
    tall = f"{SANDBOX}/_sandbox/images/story.jpg?w=1080&h=1920"
    body = {"account_ids": [accounts["instagram"]], "text": "Too tall", "image_url": tall}

    response = publish("publish/meta", body)

    assert response["statusCode"] == 422
    [error] = response_json(response)["errors"]
    assert error["code"] == "aspect_ratio"
    assert "1080x1920" in error["message"]
    assert posts_on(sandbox, "instagram") == []


def test_each_network_gets_its_own_words_and_a_first_comment_under_its_post(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState, sandbox_app: Any
) -> None:
    body = {
        "account_ids": list(accounts.values()),
        "text": "Our second shop opens on Friday, on the corner of Elm Street and Main.",
        "image_url": IMAGE,
        "first_comment": "Directions: https://shop.example.com/2",
        "variants": {
            "platform:x": {"text": "Shop no. 2 opens Friday! #bread", "image_url": None},
            "platform:instagram": {"first_comment": "Link in bio for directions"},
        },
    }
    response = publish("publish/multi", body)
    assert response["statusCode"] == 200, response["body"]
    targets = targets_of(response)

    [tweet, reply] = posts_on(sandbox, "x")
    assert (tweet["text"], tweet["image"]) == ("Shop no. 2 opens Friday! #bread", None)
    assert (reply["text"], reply["reply_to"]) == (
        "Directions: https://shop.example.com/2",
        tweet["id"],
    )
    comments = {c["platform"]: c for c in sandbox_app.state.publishing.comments.values()}
    for platform in ("linkedin", "facebook", "instagram"):
        [live] = posts_on(sandbox, platform)
        assert live["text"] == body["text"]
        assert comments[platform]["parent"] == live["id"]
        assert targets[platform]["first_comment"]["platform_comment_id"] == comments[platform]["id"]
    assert comments["instagram"]["text"] == "Link in bio for directions"
    assert targets["x"]["first_comment"]["platform_comment_id"] == reply["id"]


def test_a_first_comment_the_platform_refuses_leaves_the_post_published(
    publish: Any, accounts: dict[str, str], sandbox: SandboxState, sandbox_app: Any
) -> None:
    fail(sandbox_app, kind="401", platform="linkedin", call="comment")
    body = {"account_ids": [accounts["linkedin"]], "text": "Open at 7", "first_comment": "Hi"}
    response = publish("publish/linkedin", body)

    assert response["statusCode"] == 200, response["body"]
    target = targets_of(response)["linkedin"]
    assert target["status"] == "published"
    assert target["first_comment"]["status"] == "failed"
    assert len(posts_on(sandbox, "linkedin")) == 1
