"""A scheduled post can be edited or cancelled until the worker claims it, not only until a tick
queues it (up to three minutes before its time).

The API (Lambda handler), the real tick and the worker's record handler run on moto; the
platform is a fake that keeps what it accepted. Every change is one conditional write, so when
an edit or a cancel races the worker's claim exactly one wins: both orders are played.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from herald import scheduled_posts, tick, worker
from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.errors import Conflict
from herald.posts import Post, PostStatus
from tests.conftest import LambdaContext
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.scheduling import (
    FakePublisher,
    SentLog,
    connect_account,
    install_publishers,
    sqs_event,
    sqs_record,
)

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DUE = "2026-06-01T12:02:00Z"  # beyond the API's dispatch-on-create, within the tick's window


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def c(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def linkedin(c: Container) -> FakePublisher:
    return install_publishers(c)["linkedin"]


@pytest.fixture
def owner(c: Container) -> dict[str, Any]:
    created = create_business(c, "Acme Bakery")
    created["linkedin"] = connect_account(c, created["business_id"], "linkedin")
    created["linkedin_2"] = connect_account(c, created["business_id"], "linkedin")
    return created


@pytest.fixture
def sent(c: Container) -> SentLog:
    return SentLog(c)


@pytest.fixture
def call(c: Container, owner: dict[str, Any]) -> Any:
    from functions.api import app

    def do(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {owner['api_key']}"}
        response = app.handler(
            http_event(method, path, headers=headers, body=body), LambdaContext()
        )
        return response["statusCode"], response_json(response)

    return do


def deliver(body: dict[str, Any], receive: int = 1) -> dict[str, Any]:
    from functions.publish_worker import app

    record = sqs_record(body, receive_count=receive)
    result: dict[str, Any] = app.handler(sqs_event(record), LambdaContext())
    return result


def queued(
    call: Any, owner: dict[str, Any], c: Container, sent: SentLog
) -> tuple[str, dict[str, Any]]:
    """A post the tick has queued, and the message it sent."""
    status, body = call(
        "POST",
        "/api/v1/schedule",
        {"account_ids": [owner["linkedin"]], "text": "Fresh bread at nine", "scheduled_for": DUE},
    )
    assert status == 201, body
    assert tick.dispatch_due(c.tick_ports).sent == 1
    [(message, _)] = sent.messages
    assert c.schedule.get(owner["business_id"], body["post_id"]).status == PostStatus.QUEUED
    return body["post_id"], message


def status_of(c: Container, owner: dict[str, Any], post_id: str) -> PostStatus:
    return c.schedule.get(owner["business_id"], post_id).status


def at_its_time(clock: FrozenClock, message: dict[str, Any]) -> None:
    clock.set(datetime.fromisoformat(message["scheduled_for"].replace("Z", "+00:00")))


# --- cancel ---------------------------------------------------------------------------------
def test_a_queued_post_can_be_cancelled_and_its_message_then_publishes_nothing(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, message = queued(call, owner, c, sent)

    status, body = call("DELETE", f"/api/v1/schedule/{post_id}")
    at_its_time(clock, message)
    result = deliver(message)

    assert (status, body["status"]) == (200, "cancelled")
    assert result == {"batchItemFailures": []}
    assert status_of(c, owner, post_id) == PostStatus.CANCELLED
    assert linkedin.calls == 0


def test_a_cancel_that_comes_after_the_worker_claimed_the_post_is_a_409_and_it_publishes(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, message = queued(call, owner, c, sent)
    refused: list[Conflict] = []

    def cancel() -> None:
        try:
            scheduled_posts.cancel(c.scheduling_ports, owner["business_id"], post_id)
        except Conflict as exc:
            refused.append(exc)

    # The claim is written; the platform call is in flight when the cancel's write arrives.
    linkedin.fail_next(cancel)
    at_its_time(clock, message)
    deliver(message)

    [conflict] = refused
    assert "is publishing" in conflict.detail
    assert status_of(c, owner, post_id) == PostStatus.PUBLISHED
    assert len(linkedin.accepted) == 1


# --- edit content ---------------------------------------------------------------------------
def test_a_queued_posts_new_text_and_accounts_are_what_the_worker_publishes(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, message = queued(call, owner, c, sent)

    status, body = call(
        "PUT",
        f"/api/v1/schedule/{post_id}",
        {"text": "Fresh bread at ten", "account_ids": [owner["linkedin_2"]]},
    )
    at_its_time(clock, message)
    result = deliver(message)

    assert status == 200, body
    assert body["status"] == "queued"  # still on its way: the message already sent carries it
    assert result == {"batchItemFailures": []}
    assert [(account, content.text) for account, content in linkedin.accepted] == [
        (owner["linkedin_2"], "Fresh bread at ten")
    ]
    assert status_of(c, owner, post_id) == PostStatus.PUBLISHED


def test_an_edit_whose_write_comes_after_the_worker_claimed_the_post_is_a_409(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, message = queued(call, owner, c, sent)
    at_its_time(clock, message)
    real_get = c.schedule.get
    worker_ran: list[str] = []

    def read_then_worker_claims(business_id: str, post_id: str) -> Post:
        found = real_get(business_id, post_id)
        if not worker_ran:  # between the edit's read and its write
            worker_ran.append(worker.handle_message(c.engine_ports, json.dumps(message), 1))
        return found

    c.schedule.get = read_then_worker_claims  # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        scheduled_posts.edit(
            c.scheduling_ports, owner["business_id"], post_id, content_changes={"text": "Too late"}
        )
    del c.schedule.get

    assert worker_ran == ["published"]
    assert "is published" in refused.value.detail
    assert [content.text for _, content in linkedin.accepted] == ["Fresh bread at nine"]


# --- edit the time --------------------------------------------------------------------------
def test_a_queued_post_moved_later_goes_back_to_pending_and_its_old_message_publishes_nothing(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, message = queued(call, owner, c, sent)

    status, body = call(
        "PUT", f"/api/v1/schedule/{post_id}", {"scheduled_for": "2026-06-01T15:00:00Z"}
    )
    at_its_time(clock, message)
    early = deliver(message)
    after_old_message = status_of(c, owner, post_id)
    clock.set(datetime(2026, 6, 1, 14, 59, tzinfo=UTC))
    tick.dispatch_due(c.tick_ports)
    clock.set(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))
    on_time = deliver(sent.messages[-1][0])

    assert (status, body["status"]) == (200, "pending")
    assert early == on_time == {"batchItemFailures": []}
    assert after_old_message == PostStatus.PENDING
    assert [m["scheduled_for"] for m, _ in sent.messages] == [
        message["scheduled_for"],
        "2026-06-01T15:00:00.000000Z",
    ]
    assert status_of(c, owner, post_id) == PostStatus.PUBLISHED
    assert len(linkedin.accepted) == 1


def test_a_post_moved_a_little_later_is_queued_again_and_its_old_message_does_not_publish_it_early(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, old = queued(call, owner, c, sent)
    at_its_time(clock, old)
    clock.advance(-10)

    # Due 40 s after the old time: within a minute, so the API queues it again at once.
    status, _ = call(
        "PUT", f"/api/v1/schedule/{post_id}", {"scheduled_for": "2026-06-01T12:02:40Z"}
    )
    [(new, delay)] = sent.messages[1:]
    requeued = status_of(c, owner, post_id)
    clock.advance(10)
    early = worker.handle_message(c.engine_ports, json.dumps(old), 1)
    published_early = len(linkedin.accepted)
    at_its_time(clock, new)
    worker.handle_message(c.engine_ports, json.dumps(new), 1)

    assert status == 200
    # 50 s away, delivered DISPATCH_EARLY_SECONDS (3 s) before its second.
    assert (requeued, delay) == (PostStatus.QUEUED, 47)
    assert early.startswith("skipped")
    assert published_early == 0
    assert len(linkedin.accepted) == 1
    assert status_of(c, owner, post_id) == PostStatus.PUBLISHED


def test_an_older_message_without_account_ids_is_dropped_too_when_its_post_was_rescheduled(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    post_id, old = queued(call, owner, c, sent)
    at_its_time(clock, old)
    clock.advance(-10)
    call("PUT", f"/api/v1/schedule/{post_id}", {"scheduled_for": "2026-06-01T12:02:40Z"})
    old.pop("account_ids")  # as the tick wrote messages before they named their accounts
    clock.advance(10)

    result = worker.handle_message(c.engine_ports, json.dumps(old), 1)

    assert result.startswith("skipped")
    assert "rescheduled" in result
    assert linkedin.calls == 0
    assert status_of(c, owner, post_id) == PostStatus.QUEUED


# --- variants -------------------------------------------------------------------------------
def test_a_queued_posts_edited_variant_is_what_the_worker_publishes(
    call: Any,
    owner: dict[str, Any],
    c: Container,
    sent: SentLog,
    linkedin: FakePublisher,
    clock: FrozenClock,
) -> None:
    status, body = call(
        "POST",
        "/api/v1/schedule",
        {
            "account_ids": [owner["linkedin"], owner["linkedin_2"]],
            "text": "Fresh bread at nine",
            "scheduled_for": DUE,
            "variants": {f"account:{owner['linkedin_2']}": {"text": "Our second page: nine"}},
        },
    )
    assert status == 201, body
    assert tick.dispatch_due(c.tick_ports).sent == 1
    [(message, _)] = sent.messages

    status, edited = call(
        "PUT",
        f"/api/v1/schedule/{body['post_id']}",
        {"variants": {"platform:linkedin": {"text": "LinkedIn at ten"}}},
    )
    at_its_time(clock, message)
    result = deliver(message)

    assert status == 200, edited
    assert edited["content"]["variants"] == {"platform:linkedin": {"text": "LinkedIn at ten"}}
    assert result == {"batchItemFailures": []}
    assert sorted((a, content.text) for a, content in linkedin.accepted) == sorted(
        [(owner["linkedin"], "LinkedIn at ten"), (owner["linkedin_2"], "LinkedIn at ten")]
    )


def test_an_edit_whose_variant_breaks_a_rule_is_a_422_and_changes_nothing(
    call: Any, owner: dict[str, Any], c: Container
) -> None:
    status, body = call(
        "POST",
        "/api/v1/schedule",
        {"account_ids": [owner["linkedin"]], "text": "Nine", "scheduled_for": DUE},
    )
    assert status == 201, body
    status, problem = call(
        "PUT",
        f"/api/v1/schedule/{body['post_id']}",
        {"variants": {"platform:linkedin": {"text": "a" * 3001}}},
    )
    assert status == 422
    assert problem["errors"][0]["field"] == "variants.platform:linkedin.text"
    assert c.schedule.get(owner["business_id"], body["post_id"]).content.variants == {}
