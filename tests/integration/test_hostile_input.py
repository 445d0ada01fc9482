"""Input a hostile or careless client sends, found by hand: each is a 422 problem that names the
field, never a 500, and nothing is stored or locked by it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from tests.conftest import LambdaContext
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.scheduling import connect_account

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LONE_SURROGATE = "\ud800"


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
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw_query: str | None = None,
    ) -> tuple[int, Any]:
        all_headers = {"Authorization": f"Bearer {owner['api_key']}", **(headers or {})}
        if isinstance(body, dict):
            body = json.dumps(body)  # escapes a lone surrogate as \ud800, as a client would
        event = http_event(method, path, headers=all_headers, body=body, query=query)
        if raw_query is not None:
            event["rawQueryString"] = raw_query
        response = app.handler(event, LambdaContext())
        return response["statusCode"], response_json(response)

    return do


def _scheduled(owner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "account_ids": [owner["linkedin"]],
        "text": "Fresh bread",
        "scheduled_for": "2026-06-02T09:00:00Z",
        **extra,
    }


def _posts(container: Container) -> list[dict[str, Any]]:
    return [i for i in container.table.scan()["Items"] if i.get("type") == "post"]


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


# --- times outside what a datetime holds -----------------------------------------------------
OUT_OF_RANGE = [
    ("0001-01-01T00:30:00+01:00", None),
    ("9999-12-31T23:30:00-01:00", None),
    ("0001-01-01T00:30:00", "Europe/Paris"),
    ("9999-12-31T23:59:00", "America/New_York"),
]


@pytest.mark.parametrize(("when", "zone"), OUT_OF_RANGE)
def test_a_time_outside_years_1_to_9999_once_in_utc_is_a_422_when_scheduling(
    call: Any, owner: dict[str, Any], api_container: Container, when: str, zone: str | None
) -> None:
    extra = {"timezone": zone} if zone else {}

    status, problem = call(
        "POST", "/api/v1/schedule", _scheduled(owner, scheduled_for=when, **extra)
    )

    assert status == 422, problem
    assert _fields(problem) == {"scheduled_for"}
    assert _posts(api_container) == []


@pytest.mark.parametrize(("when", "zone"), OUT_OF_RANGE)
def test_a_time_outside_years_1_to_9999_once_in_utc_is_a_422_when_rescheduling(
    call: Any, owner: dict[str, Any], when: str, zone: str | None
) -> None:
    _, post = call("POST", "/api/v1/schedule", _scheduled(owner))
    extra = {"timezone": zone} if zone else {}

    status, problem = call(
        "PUT", f"/api/v1/schedule/{post['post_id']}", {"scheduled_for": when, **extra}
    )

    assert status == 422, problem
    assert _fields(problem) == {"scheduled_for"}


@pytest.mark.parametrize("bound", ["from", "to"])
def test_a_calendar_bound_outside_years_1_to_9999_once_in_utc_is_a_422(
    call: Any, owner: dict[str, Any], bound: str
) -> None:
    status, problem = call(
        "GET",
        f"/api/v1/schedule/{owner['business_id']}",
        query={bound: "0001-01-01T00:30:00+01:00"},
    )

    assert status == 422, problem
    assert _fields(problem) == {bound}


# --- strings that are not Unicode text ---------------------------------------------------------
def _with_surrogate(owner: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    scheduled = _scheduled(owner)
    publish = {"account_ids": [owner["linkedin"]], "text": "hi"}
    return [
        ("POST", "/api/v1/schedule", {**scheduled, "text": "a" + LONE_SURROGATE}, "text"),
        (
            "POST",
            "/api/v1/schedule",
            {**scheduled, "account_ids": [LONE_SURROGATE]},
            "account_ids.0",
        ),
        ("POST", "/api/v1/schedule", {**scheduled, "timezone": LONE_SURROGATE}, "timezone"),
        (
            "POST",
            "/api/v1/schedule",
            {**scheduled, "scheduled_for": "2026-06-02T09:00:00" + LONE_SURROGATE},
            "scheduled_for",
        ),
        ("POST", "/api/v1/publish/linkedin", {**publish, "text": LONE_SURROGATE}, "text"),
        (
            "POST",
            "/api/v1/publish/linkedin",
            {**publish, "image_url": "https://cdn.test/" + LONE_SURROGATE},
            "image_url",
        ),
        (
            "POST",
            "/api/v1/publish/twitter",
            {"account_ids": [owner["x"]], "thread": ["one", LONE_SURROGATE]},
            "thread.1",
        ),
        (
            "POST",
            "/api/v1/publish/multi",
            {**publish, "link": "https://bakery.test/" + LONE_SURROGATE},
            "link",
        ),
        (
            "POST",
            "/api/v1/oauth/linkedin/confirm",
            {"confirmation": LONE_SURROGATE * 43},
            "confirmation",
        ),
    ]


def test_a_lone_surrogate_in_any_string_of_a_body_is_a_422_naming_the_field(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    answers = {}
    for method, path, body, field in _with_surrogate(owner):
        status, problem = call(method, path, body)
        answers[(path, field)] = (status, _fields(problem))

    assert {k: v for k, v in answers.items() if v != (422, {k[1]})} == {}
    assert _posts(api_container) == []


def test_a_lone_surrogate_in_an_edit_is_a_422_and_the_post_is_unchanged(
    call: Any, owner: dict[str, Any]
) -> None:
    _, post = call("POST", "/api/v1/schedule", _scheduled(owner))
    path = f"/api/v1/schedule/{post['post_id']}"

    status, problem = call("PUT", path, {"text": LONE_SURROGATE})

    assert (status, _fields(problem)) == (422, {"text"})
    assert call("GET", f"/api/v1/posts/{post['post_id']}")[1]["content"]["text"] == "Fresh bread"


def test_an_idempotency_key_sent_with_a_lone_surrogate_is_not_left_locked(
    call: Any, owner: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "surrogate-1"}
    refused, _ = call(
        "POST", "/api/v1/schedule", _scheduled(owner, account_ids=[LONE_SURROGATE]), headers=key
    )

    status, body = call("POST", "/api/v1/schedule", _scheduled(owner), headers=key)

    assert refused == 422
    assert status == 201, body


# --- too many filters, ids too long for a key -------------------------------------------------
def test_more_than_a_hundred_status_filters_is_a_422(call: Any, owner: dict[str, Any]) -> None:
    status, problem = call(
        "GET",
        f"/api/v1/schedule/{owner['business_id']}",
        raw_query="&".join(["status=pending"] * 101),
    )

    assert status == 422, problem
    assert _fields(problem) == {"status"}


def test_every_status_named_many_times_still_lists_the_calendar(
    call: Any, owner: dict[str, Any]
) -> None:
    call("POST", "/api/v1/schedule", _scheduled(owner))

    status, page = call(
        "GET",
        f"/api/v1/schedule/{owner['business_id']}",
        raw_query="&".join(["status=pending", "status=queued", "status=pending"]),
    )

    assert status == 200, page
    assert [p["status"] for p in page["items"]] == ["pending"]


LONG_ID = "acc_" + "a" * 2000


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_account_id_longer_than_a_key_can_be_is_a_422(
    call: Any, owner: dict[str, Any], method: str
) -> None:
    status, problem = call(method, f"/api/v1/accounts/{LONG_ID}")

    assert status == 422, problem
    assert _fields(problem) == {"account_id"}


def test_account_ids_longer_than_a_key_can_be_are_a_422_in_a_body(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    answers = {
        "schedule": call(
            "POST", "/api/v1/schedule", _scheduled(owner, account_ids=[owner["x"], LONG_ID])
        ),
        "publish": call(
            "POST", "/api/v1/publish/multi", {"account_ids": [LONG_ID] * 1, "text": "hi"}
        ),
    }
    _, post = call("POST", "/api/v1/schedule", _scheduled(owner))
    answers["edit"] = call("PUT", f"/api/v1/schedule/{post['post_id']}", {"account_ids": [LONG_ID]})

    assert {k: (s, _fields(p)) for k, (s, p) in answers.items()} == {
        "schedule": (422, {"account_ids.1"}),
        "publish": (422, {"account_ids.0"}),
        "edit": (422, {"account_ids.0"}),
    }
    assert len(_posts(api_container)) == 1


# --- control characters, threads, dates and zones ---------------------------------------------
def test_a_nul_or_another_control_character_in_a_post_is_a_422_but_tabs_and_newlines_are_text(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    nul = call("POST", "/api/v1/schedule", _scheduled(owner, text="Fresh\x00bread"))
    bell = call("POST", "/api/v1/schedule", _scheduled(owner, text="Fresh\x07bread"))
    c1 = call("POST", "/api/v1/schedule", _scheduled(owner, text="Fresh\x85bread"))
    lines = call("POST", "/api/v1/schedule", _scheduled(owner, text="Fresh\tbread\r\nat nine"))

    assert [(s, [e["code"] for e in p["errors"]]) for s, p in (nul, bell, c1)] == [
        (422, ["control_character"])
    ] * 3
    assert "NUL" in nul[1]["errors"][0]["message"]
    assert lines[0] == 201, lines[1]
    assert len(_posts(api_container)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_ids", ["acc_\x00"]),
        ("scheduled_for", "2026-06-02T09:00:00Z\n"),
        ("timezone", "Europe/Paris\t"),
        ("image_url", "https://cdn.test/a.png\x00"),
    ],
)
def test_a_control_character_in_an_id_a_time_a_zone_or_a_url_is_a_422(
    call: Any, owner: dict[str, Any], field: str, value: Any
) -> None:
    status, problem = call("POST", "/api/v1/schedule", _scheduled(owner, **{field: value}))

    assert status == 422, problem
    assert [e["code"] for e in problem["errors"]] == ["control_character"]


def test_a_thread_sent_to_a_linkedin_account_says_what_to_do(
    call: Any, owner: dict[str, Any], api_container: Container
) -> None:
    body = {"account_ids": [owner["linkedin"]], "thread": ["1/2 Our story", "2/2 The end"]}

    status, problem = call("POST", "/api/v1/publish/multi", body)

    assert status == 422
    [thread] = [e for e in problem["errors"] if e["field"] == "thread"]
    assert thread["code"] == "thread_needs_x"
    assert "send the post as `text`" in thread["message"]
    assert _posts(api_container) == []


def test_text_and_a_thread_for_x_accounts_only_is_a_422(call: Any, owner: dict[str, Any]) -> None:
    body = {"account_ids": [owner["x"]], "text": "lost", "thread": ["1/2 Our", "2/2 story"]}

    status, problem = call("POST", "/api/v1/publish/twitter", body)

    assert status == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("text", "text_unused")]


def test_a_date_without_a_time_is_a_422_not_midnight(call: Any, owner: dict[str, Any]) -> None:
    status, problem = call(
        "POST", "/api/v1/schedule", _scheduled(owner, scheduled_for="2026-06-02", timezone="UTC")
    )

    assert status == 422
    assert [e["code"] for e in problem["errors"]] == ["missing_time"]


def test_est_is_a_422_that_suggests_an_iana_zone(call: Any, owner: dict[str, Any]) -> None:
    status, problem = call(
        "POST",
        "/api/v1/schedule",
        _scheduled(owner, scheduled_for="2026-06-02T09:00:00", timezone="EST"),
    )

    assert status == 422
    [error] = problem["errors"]
    assert (error["field"], error["code"]) == ("timezone", "ambiguous_timezone")
    assert "America/New_York" in error["message"]


def test_a_lone_surrogate_in_a_field_name_is_a_422_that_can_be_sent(
    call: Any, owner: dict[str, Any]
) -> None:
    status, problem = call("POST", "/api/v1/schedule", {**_scheduled(owner), LONE_SURROGATE: 1})

    assert status == 422
    assert problem["title"] == "Invalid input"
