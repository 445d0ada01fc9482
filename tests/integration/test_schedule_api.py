"""The scheduling API through the Lambda handler: create, calendar, reschedule, cancel."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from herald import tick
from herald.admin.commands import create_business
from herald.auth import hash_key, key_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.posts import PostStatus
from tests.conftest import LambdaContext
from tests.fakes.lambda_events import header, http_event, response_json
from tests.fakes.scheduling import SentLog, connect_account

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def api_container(container: Container) -> Container:
    container.__dict__["clock"] = FrozenClock(START)
    return container


@pytest.fixture
def owner(api_container: Container) -> dict[str, Any]:
    created = create_business(api_container, "Acme Bakery")
    created["linkedin"] = connect_account(api_container, created["business_id"], "linkedin")
    created["x"] = connect_account(api_container, created["business_id"], "x")
    return created


@pytest.fixture
def call(api_container: Container, owner: dict[str, Any]) -> Any:
    from functions.api import app

    def do(
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, Any]]:
        all_headers = {"Authorization": f"Bearer {key or owner['api_key']}", **(headers or {})}
        event = http_event(method, path, headers=all_headers, body=body, query=query)
        response = app.handler(event, LambdaContext())
        return response["statusCode"], response_json(response), response

    return do


def _schedule(owner: dict[str, Any], when: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_ids": [owner["linkedin"]],
        "text": "Fresh bread",
        "scheduled_for": when,
        **extra,
    }


def _count_posts(c: Container) -> int:
    items = c.table.scan(
        FilterExpression="#t = :post",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":post": "post"},
    )["Items"]
    return len(items)


# --- create ------------------------------------------------------------------------------


def test_a_post_with_an_offset_is_stored_pending_in_utc(call: Any, owner: dict[str, Any]) -> None:
    status, body, response = call(
        "POST", "/api/v1/schedule", _schedule(owner, "2026-06-02T09:00:00+02:00")
    )
    assert status == 201
    assert body["status"] == "pending"
    assert body["scheduled_for"] == "2026-06-02T07:00:00.000000Z"
    assert header(response, "location") == f"/api/v1/posts/{body['post_id']}"
    assert [t["status"] for t in body["targets"]] == ["pending"]


def test_a_local_time_with_a_zone_is_stored_in_utc_and_shown_in_the_zone(
    call: Any, owner: dict[str, Any]
) -> None:
    status, body, _ = call(
        "POST", "/api/v1/schedule", _schedule(owner, "2026-12-01T09:00:00", timezone="Europe/Paris")
    )
    assert status == 201
    assert body["scheduled_for"] == "2026-12-01T08:00:00.000000Z"
    assert body["timezone"] == "Europe/Paris"
    assert body["scheduled_for_local"] == "2026-12-01T09:00:00+01:00"


@pytest.mark.parametrize(
    ("when", "extra", "code"),
    [
        ("2026-06-01T11:59:00Z", {}, "in_past"),
        ("2027-06-02T12:00:00Z", {}, "too_far_ahead"),
        ("2026-07-01T09:00:00", {"timezone": "Nowhere/Special"}, "unknown_timezone"),
        ("2026-07-01T09:00:00", {}, "missing_offset"),
        ("2027-03-14T02:30:00", {"timezone": "America/New_York"}, "nonexistent_local_time"),
        ("2026-07-01T09:00:00+05:00", {"timezone": "Europe/Paris"}, "offset_mismatch"),
    ],
)
def test_a_time_that_cannot_be_scheduled_is_a_422_problem_and_nothing_is_stored(
    call: Any,
    owner: dict[str, Any],
    api_container: Container,
    when: str,
    extra: dict[str, Any],
    code: str,
) -> None:
    status, body, response = call("POST", "/api/v1/schedule", _schedule(owner, when, **extra))
    assert status == 422
    assert header(response, "content-type") == "application/problem+json"
    assert [e["code"] for e in body["errors"]] == [code]
    assert _count_posts(api_container) == 0


def test_an_ambiguous_fall_back_time_goes_at_its_first_occurrence_unless_fold_says_second(
    call: Any, owner: dict[str, Any]
) -> None:
    first = call(
        "POST",
        "/api/v1/schedule",
        _schedule(owner, "2026-11-01T01:30:00", timezone="America/New_York"),
    )[1]
    second = call(
        "POST",
        "/api/v1/schedule",
        _schedule(owner, "2026-11-01T01:30:00", timezone="America/New_York", fold=1),
    )[1]
    assert first["scheduled_for"] == "2026-11-01T05:30:00.000000Z"
    assert second["scheduled_for"] == "2026-11-01T06:30:00.000000Z"
    assert first["scheduled_for_local"] == "2026-11-01T01:30:00-04:00"
    assert second["scheduled_for_local"] == "2026-11-01T01:30:00-05:00"


def test_the_content_rules_of_immediate_publishing_run_at_schedule_time(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    body = {"account_ids": [owner["x"]], "text": "x" * 300, "scheduled_for": "2026-06-02T09:00:00Z"}
    status, problem, _ = call("POST", "/api/v1/schedule", body)
    assert status == 422
    assert problem["errors"]
    assert _count_posts(api_container) == 0


def test_another_business_account_is_an_unknown_account(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    other = create_business(api_container, "Other")
    foreign = connect_account(api_container, other["business_id"], "linkedin")
    body = {"account_ids": [foreign], "text": "hi", "scheduled_for": "2026-06-02T09:00:00Z"}
    status, problem, _ = call("POST", "/api/v1/schedule", body)
    assert status == 422
    assert problem["errors"] == [
        {
            "field": "account_ids[0]",
            "message": f"unknown account {foreign}",
            "code": "unknown_account",
        }
    ]


def test_a_post_due_before_the_next_tick_is_queued_at_once_with_its_delay(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    sent = SentLog(api_container)
    status, body, _ = call("POST", "/api/v1/schedule", _schedule(owner, "2026-06-01T12:00:40Z"))
    assert status == 201
    assert (
        api_container.posts.get(owner["business_id"], body["post_id"]).status == PostStatus.QUEUED
    )
    assert sent.delay_of(body["post_id"]) == 37  # a batching window early


def test_the_same_idempotency_key_and_body_schedule_once(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    payload = _schedule(owner, "2026-06-02T09:00:00Z")
    headers = {"Idempotency-Key": "sched-0001"}
    first = call("POST", "/api/v1/schedule", payload, headers=headers)
    again = call("POST", "/api/v1/schedule", payload, headers=headers)
    assert first[0] == again[0] == 201
    assert first[1]["post_id"] == again[1]["post_id"]
    assert _count_posts(api_container) == 1


# --- the calendar --------------------------------------------------------------------------


def _make(call: Any, owner: dict[str, Any], when: str, account: str = "linkedin") -> str:
    status, body, _ = call(
        "POST",
        "/api/v1/schedule",
        {"account_ids": [owner[account]], "text": f"post at {when}", "scheduled_for": when},
    )
    assert status == 201, body
    post_id: str = body["post_id"]
    return post_id


def test_scheduling_a_link_with_no_facebook_target_is_refused_and_stores_nothing(
    call: Any, owner: dict[str, Any]
) -> None:
    body = {
        "account_ids": [owner["linkedin"]],
        "text": "New hours",
        "link": "https://bakery.test/hours",
        "scheduled_for": "2026-06-02T09:00:00Z",
    }

    status, problem, _ = call("POST", "/api/v1/schedule", body)

    assert status == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("link", "no_facebook_target")]
    assert call("GET", f"/api/v1/schedule/{owner['business_id']}")[1]["items"] == []


def test_the_calendar_lists_newest_first_or_by_time(call: Any, owner: dict[str, Any]) -> None:
    ids = [_make(call, owner, f"2026-06-0{d}T09:00:00Z") for d in (3, 2, 4)]
    path = f"/api/v1/schedule/{owner['business_id']}"
    newest = call("GET", path)[1]["items"]
    by_time = call("GET", path, query={"order": "asc"})[1]["items"]
    assert [p["post_id"] for p in newest] == [ids[2], ids[0], ids[1]]
    assert [p["post_id"] for p in by_time] == [ids[1], ids[0], ids[2]]


def test_the_calendar_filters_by_status_platform_and_range(
    call: Any, owner: dict[str, Any]
) -> None:
    a = _make(call, owner, "2026-06-02T09:00:00Z")
    b = _make(call, owner, "2026-06-03T09:00:00Z", "x")
    c = _make(call, owner, "2026-06-04T09:00:00Z")
    call("DELETE", f"/api/v1/schedule/{c}")
    path = f"/api/v1/schedule/{owner['business_id']}"

    def ids(query: dict[str, str]) -> list[str]:
        status, body, _ = call("GET", path, query={"order": "asc", **query})
        assert status == 200, body
        return [p["post_id"] for p in body["items"]]

    assert ids({"status": "pending"}) == [a, b]
    assert ids({"status": "cancelled"}) == [c]
    assert ids({"platform": "x"}) == [b]
    assert ids({"from": "2026-06-03T00:00:00Z", "to": "2026-06-04T09:00:00Z"}) == [b, c]
    assert ids({"from": "2026-06-03T00:00:00Z", "status": "pending", "platform": "linkedin"}) == []


def test_the_calendar_pages_with_an_opaque_cursor_until_the_end(
    call: Any, owner: dict[str, Any]
) -> None:
    made = [_make(call, owner, f"2026-06-{d:02d}T09:00:00Z") for d in range(2, 9)]
    call("DELETE", f"/api/v1/schedule/{made[3]}")  # a filtered-out item inside a page
    path = f"/api/v1/schedule/{owner['business_id']}"
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"order": "asc", "limit": "2", "status": "pending"}
        if cursor:
            query["cursor"] = cursor
        body = call("GET", path, query=query)[1]
        seen += [p["post_id"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [p for i, p in enumerate(made) if i != 3]
    assert pages in (3, 4)


def test_another_business_calendar_is_a_404(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    other = create_business(api_container, "Other")
    status, body, _ = call("GET", f"/api/v1/schedule/{other['business_id']}")
    assert status == 404
    assert other["business_id"] in body["detail"]


def test_a_cursor_from_another_business_is_refused(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    for d in (2, 3):
        _make(call, owner, f"2026-06-0{d}T09:00:00Z")
    cursor = call("GET", f"/api/v1/schedule/{owner['business_id']}", query={"limit": "1"})[1][
        "next_cursor"
    ]
    other = create_business(api_container, "Other")
    status, _, _ = call(
        "GET",
        f"/api/v1/schedule/{other['business_id']}",
        key=other["api_key"],
        query={"cursor": cursor},
    )
    assert status == 422
    assert (
        call("GET", f"/api/v1/schedule/{owner['business_id']}", query={"cursor": "%%%"})[0] == 422
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: {**key, "cal_sk": 5},  # a number where the index holds a string
        lambda key: {**key, "extra": "x"},  # a key the index does not have
        lambda key: {k: v for k, v in key.items() if k != "sk"},  # the table's key missing
        lambda key: {**key, "pk": "BUSINESS#biz_someone_else"},
    ],
)
def test_an_edited_cursor_is_a_422_not_a_dynamodb_error(
    call: Any, owner: dict[str, Any], tamper: Any
) -> None:
    for d in (2, 3):
        _make(call, owner, f"2026-06-0{d}T09:00:00Z")
    path = f"/api/v1/schedule/{owner['business_id']}"
    cursor = call("GET", path, query={"limit": "1"})[1]["next_cursor"]
    key = json.loads(base64.urlsafe_b64decode(cursor))
    edited = base64.urlsafe_b64encode(json.dumps(tamper(key)).encode()).decode()

    status, body, _ = call("GET", path, query={"cursor": edited})

    assert status == 422
    assert body["errors"][0]["field"] == "cursor"


# --- reschedule, edit, cancel --------------------------------------------------------------


def test_a_pending_post_can_be_rescheduled_and_the_tick_sends_it_at_its_new_time(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    post_id = _make(call, owner, "2026-06-01T12:05:00Z")
    status, body, _ = call(
        "PUT", f"/api/v1/schedule/{post_id}", {"scheduled_for": "2026-06-01T13:00:00Z"}
    )
    assert status == 200
    assert body["scheduled_for"] == "2026-06-01T13:00:00.000000Z"
    sent = SentLog(api_container)
    assert tick.dispatch_due(api_container.tick_ports).sent == 0
    api_container.clock.advance(3600 - 60)  # type: ignore[attr-defined]
    tick.dispatch_due(api_container.tick_ports)
    assert sent.delay_of(post_id) == 57  # a batching window early


def test_a_naive_new_time_is_read_in_the_zone_the_post_was_scheduled_in(
    call: Any, owner: dict[str, Any]
) -> None:
    _, body, _ = call(
        "POST", "/api/v1/schedule", _schedule(owner, "2026-12-01T09:00:00", timezone="Europe/Paris")
    )
    moved = call(
        "PUT", f"/api/v1/schedule/{body['post_id']}", {"scheduled_for": "2026-12-01T10:00:00"}
    )
    assert moved[1]["scheduled_for"] == "2026-12-01T09:00:00.000000Z"


def test_the_content_of_a_pending_post_can_be_edited_under_the_same_rules(
    call: Any, owner: dict[str, Any]
) -> None:
    post_id = _make(call, owner, "2026-06-02T09:00:00Z", "x")
    ok = call("PUT", f"/api/v1/schedule/{post_id}", {"text": "New words"})
    assert (ok[0], ok[1]["content"]["text"]) == (200, "New words")
    too_long = call("PUT", f"/api/v1/schedule/{post_id}", {"text": "y" * 400})
    assert too_long[0] == 422
    assert call("GET", f"/api/v1/posts/{post_id}")[1]["content"]["text"] == "New words"


def test_editing_or_cancelling_a_post_the_worker_is_publishing_is_a_409_and_changes_nothing(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    post_id = _make(call, owner, "2026-06-01T12:02:00Z")
    tick.dispatch_due(api_container.tick_ports)
    api_container.posts.start(owner["business_id"], post_id, "2026-06-01T12:02:00.000000Z")
    before = api_container.posts.get(owner["business_id"], post_id)
    edit = call("PUT", f"/api/v1/schedule/{post_id}", {"text": "too late"})
    cancel = call("DELETE", f"/api/v1/schedule/{post_id}")
    assert (edit[0], cancel[0]) == (409, 409)
    assert "is publishing" in edit[1]["detail"]
    assert cancel[1]["status"] == 409
    assert api_container.posts.get(owner["business_id"], post_id) == before


def test_a_cancelled_post_leaves_the_due_index_and_a_second_cancel_is_a_409(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    post_id = _make(call, owner, "2026-06-01T12:02:00Z")
    status, body, _ = call("DELETE", f"/api/v1/schedule/{post_id}")
    assert (status, body["status"]) == (200, "cancelled")
    assert tick.dispatch_due(api_container.tick_ports).due == 0
    assert call("DELETE", f"/api/v1/schedule/{post_id}")[0] == 409


def test_another_business_post_cannot_be_edited_or_cancelled(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    post_id = _make(call, owner, "2026-06-02T09:00:00Z")
    other = create_business(api_container, "Other")
    assert call("DELETE", f"/api/v1/schedule/{post_id}", key=other["api_key"])[0] == 404
    assert (
        call("PUT", f"/api/v1/schedule/{post_id}", {"text": "mine"}, key=other["api_key"])[0] == 404
    )
    assert api_container.posts.get(owner["business_id"], post_id).status == PostStatus.PENDING


# --- the key and the accounts, read together -----------------------------------------------
# A key names its business (`hrld_<business>.<secret>`), so a request that names accounts reads
# the key and those accounts in one strongly consistent BatchGetItem. The business part grants
# nothing: the stored key must belong to that business.

LEGACY_KEY = "hrld_" + "L" * 43


@pytest.fixture
def dynamodb_calls(api_container: Container) -> list[str]:
    calls: list[str] = []
    api_container.table.meta.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    return calls


def test_an_issued_key_names_its_business(owner: dict[str, Any]) -> None:
    assert key_business(owner["api_key"]) == owner["business_id"]


def test_a_key_reads_its_accounts_with_it_in_one_request_once_it_has_verified_here(
    call: Any, owner: dict[str, Any], dynamodb_calls: list[str]
) -> None:
    first, _, _ = call("POST", "/api/v1/schedule", _schedule(owner, "2026-06-02T09:00:00Z"))
    on_a_cold_instance = list(dynamodb_calls)
    dynamodb_calls.clear()

    second, _, _ = call("POST", "/api/v1/schedule", _schedule(owner, "2026-06-02T10:00:00Z"))

    assert (first, second) == (201, 201)
    assert on_a_cold_instance == ["GetItem", "BatchGetItem", "PutItem"]
    assert dynamodb_calls == ["BatchGetItem", "PutItem"]


def test_a_forged_key_naming_a_real_business_and_its_accounts_reads_the_key_alone(
    call: Any, api_container: Container, owner: dict[str, Any]
) -> None:
    call("GET", "/api/v1/me")  # the business's real key has verified on this instance
    read: list[dict[str, Any]] = []
    api_container.table.meta.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, params, **_: read.append(params)
    )
    forged = f"hrld_{owner['business_id']}.{'A' * 43}"

    status, problem, _ = call(
        "POST", "/api/v1/schedule", _schedule(owner, "2026-06-02T09:00:00Z"), key=forged
    )

    assert (status, problem["detail"]) == (401, "invalid or revoked API key")
    assert "ACCOUNT#" not in json.dumps(read, default=str)
    assert len(read) == 1


def test_a_key_whose_business_part_names_another_business_is_refused(
    call: Any, api_container: Container, owner: dict[str, Any]
) -> None:
    other = create_business(api_container, "Other Bakery")
    forged = owner["api_key"].replace(owner["business_id"], other["business_id"], 1)

    status, problem, _ = call(
        "POST", "/api/v1/schedule", _schedule(owner, "2026-06-02T09:00:00Z"), key=forged
    )

    assert status == 401
    assert problem["detail"] == "invalid or revoked API key"


def test_a_key_issued_without_a_business_part_still_works_and_reads_accounts_apart(
    call: Any, api_container: Container, owner: dict[str, Any], dynamodb_calls: list[str]
) -> None:
    api_container.businesses.add_api_key(owner["business_id"], "key_legacy", hash_key(LEGACY_KEY))
    dynamodb_calls.clear()

    status, _, _ = call(
        "POST", "/api/v1/schedule", _schedule(owner, "2026-06-02T09:00:00Z"), key=LEGACY_KEY
    )

    assert status == 201
    assert dynamodb_calls == ["GetItem", "BatchGetItem", "PutItem"]


def test_another_business_account_is_unknown_even_when_read_with_the_key(
    call: Any, api_container: Container, owner: dict[str, Any]
) -> None:
    other = create_business(api_container, "Other Bakery")
    theirs = connect_account(api_container, other["business_id"], "linkedin")
    body = {**_schedule(owner, "2026-06-02T09:00:00Z"), "account_ids": [theirs]}

    status, problem, _ = call("POST", "/api/v1/schedule", body)

    assert status == 422
    assert problem["errors"][0]["field"] == "account_ids[0]"
