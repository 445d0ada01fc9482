"""The tick, on moto with a frozen clock: what it sends, when, once, and what it leaves."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from herald import tick
from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.errors import Conflict
from herald.posts import PostStatus
from herald.store.journal import JOURNAL_PK
from herald.store.table import business_pk
from tests.conftest import LambdaContext, load_event
from tests.fakes.scheduling import LambdaKilled, SentLog, at, drain, pending_post


@pytest.fixture
def tick_container(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def biz(tick_container: Container) -> str:
    business_id: str = create_business(tick_container, "Acme Bakery")["business_id"]
    return business_id


@pytest.fixture
def sent(tick_container: Container) -> SentLog:
    return SentLog(tick_container)


def _status(container: Container, business_id: str, post_id: str) -> PostStatus:
    return container.schedule.get(business_id, post_id).status


def _raw(container: Container, business_id: str, post_id: str) -> dict[str, Any]:
    key = {"pk": business_pk(business_id), "sk": f"POST#{post_id}"}
    item: dict[str, Any] = container.table.get_item(Key=key, ConsistentRead=True)["Item"]
    return item


def test_posts_due_within_the_window_are_sent_with_a_delay_that_ends_a_batching_window_early(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    """The event source mapping spends its batching window (DISPATCH_EARLY_SECONDS, 3 s)
    gathering around a lone message: the message comes that much sooner, the worker waits."""
    c = tick_container
    soon = pending_post(c, biz, ["acc_1"], at(c, 30))
    fractional = pending_post(c, biz, ["acc_1"], at(c, 90.4))
    edge = pending_post(c, biz, ["acc_1"], at(c, 180))
    later = pending_post(c, biz, ["acc_1"], at(c, 181))

    report = tick.dispatch_due(c.tick_ports)

    assert report.sent == 3
    assert sent.delay_of(soon.post_id) == 27
    assert sent.delay_of(fractional.post_id) == 87  # rounded down: the worker waits out 3.4 s
    assert sent.delay_of(edge.post_id) == 177
    assert later.post_id not in sent.post_ids
    assert _status(c, biz, later.post_id) == PostStatus.PENDING


def test_a_burst_due_in_one_second_arrives_earlier_by_two_seconds_a_hundred_a_lone_post_not(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    """Claim ahead, fire on time: the workers get a burst's messages in time to claim them all
    before its second (herald.tick.lead_seconds)."""
    c = tick_container
    crowd = [pending_post(c, biz, ["acc_1"], at(c, 120), text=f"Sale {n}") for n in range(150)]
    lone = pending_post(c, biz, ["acc_1"], at(c, 121))

    assert tick.dispatch_due(c.tick_ports).sent == 151

    assert {sent.delay_of(p.post_id) for p in crowd} == {120 - 5}  # 3 s, and 2 s per hundred
    assert sent.delay_of(lone.post_id) == 121 - 3


def test_a_burst_takes_the_lead_the_first_part_to_reach_its_second_stored(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    c = tick_container
    crowd = [pending_post(c, biz, ["acc_1"], at(c, 120), text=f"Sale {n}") for n in range(150)]
    second = tick.its_second(crowd[0].scheduled_for or "")
    # Another part got there first, counting more of the burst on its shards than this one.
    assert c.tick_ports.journal.agree_lead(second, 9.0) == 9.0

    assert tick.dispatch_due(c.tick_ports).sent == 150

    assert {sent.delay_of(p.post_id) for p in crowd} == {120 - 9}  # not this part's own 5 s


def test_the_parts_of_a_minute_give_a_bursts_messages_one_lead(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    c = tick_container
    crowd = [pending_post(c, biz, ["acc_1"], at(c, 120), text=f"Sale {n}") for n in range(300)]

    for k in range(8):
        tick.dispatch_due(c.tick_ports, part=tick.Part(k, 8))

    assert sorted(sent.post_ids) == sorted(p.post_id for p in crowd)
    assert len({sent.delay_of(p.post_id) for p in crowd}) == 1  # visible within one second


def test_a_lead_that_cannot_be_agreed_is_the_parts_own(
    tick_container: Container, biz: str, sent: SentLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = tick_container
    crowd = [pending_post(c, biz, ["acc_1"], at(c, 120), text=f"Sale {n}") for n in range(150)]

    def out_of_reach(second: str, lead: float) -> float:
        raise ConnectionError("DynamoDB out of reach")

    monkeypatch.setattr(c.tick_ports.journal, "agree_lead", out_of_reach)

    assert tick.dispatch_due(c.tick_ports).sent == 150
    assert {sent.delay_of(p.post_id) for p in crowd} == {120 - 5}


def test_a_lone_post_asks_for_no_agreement(
    tick_container: Container, biz: str, sent: SentLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = tick_container
    lone = pending_post(c, biz, ["acc_1"], at(c, 120))

    def never(second: str, lead: float) -> float:
        raise AssertionError("a lone post's lead is the batching window's")

    monkeypatch.setattr(c.tick_ports.journal, "agree_lead", never)
    assert tick.dispatch_due(c.tick_ports).sent == 1
    assert sent.delay_of(lone.post_id) == 120 - 3


def test_the_lead_grows_by_whole_hundreds_from_the_batching_window_to_its_ceiling(
    tick_container: Container,
) -> None:
    s = tick_container.settings
    leads = [tick.lead_seconds(s, n) for n in (1, 99, 100, 200, 1_000, 10_000)]
    assert leads == [3, 3, 5, 7, 23, s.dispatch_early_max_seconds]


def test_the_message_names_the_business_the_post_its_time_and_its_accounts(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    post = pending_post(tick_container, biz, ["acc_1", "acc_2"], at(tick_container, 10))
    tick.dispatch_due(tick_container.tick_ports)
    [(body, delay)] = sent.messages
    assert delay == 7
    assert sorted(body.pop("account_ids")) == ["acc_1", "acc_2"]  # a map: no order
    assert body == {
        "business_id": biz,
        "post_id": post.post_id,
        "scheduled_for": post.scheduled_for,
    }


def test_a_queued_post_leaves_the_due_index_and_records_when_it_was_queued(
    tick_container: Container, biz: str
) -> None:
    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 5))
    assert "due_pk" in _raw(tick_container, biz, post.post_id)
    tick.dispatch_due(tick_container.tick_ports)
    item = _raw(tick_container, biz, post.post_id)
    assert item["status"] == "queued"
    assert "due_pk" not in item
    assert "due_sk" not in item
    assert item["queued_at"]


def test_a_tick_sends_in_batches_of_ten(tick_container: Container, biz: str) -> None:
    for i in range(23):
        pending_post(tick_container, biz, ["acc_1"], at(tick_container, 20 + i))
    calls: list[int] = []
    tick_container.sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    assert tick.dispatch_due(tick_container.tick_ports).sent == 23
    assert sorted(calls) == [3, 10, 10]


def test_five_ticks_that_never_came_then_one_sends_overdue_oldest_first_and_misses_the_too_late(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    too_late = pending_post(c, biz, ["acc_1"], at(c, -3601))
    oldest = pending_post(c, biz, ["acc_1"], at(c, -300))
    newer = pending_post(c, biz, ["acc_1"], at(c, -120))
    newest = pending_post(c, biz, ["acc_1"], at(c, -1))
    upcoming = pending_post(c, biz, ["acc_1"], at(c, 45))
    events: list[tuple[str, dict[str, Any]]] = []
    c.sns.meta.events.register(
        "before-parameter-build.sns.Publish",
        lambda params, **_: events.append((params["Message"], params)),
    )

    report = tick.dispatch_due(c.tick_ports)

    assert sent.post_ids == [oldest.post_id, newer.post_id, newest.post_id, upcoming.post_id]
    assert [sent.delay_of(p.post_id) for p in (oldest, newer, newest)] == [0, 0, 0]
    assert report.overdue == 4
    assert report.missed == 1
    missed = c.schedule.get(biz, too_late.post_id)
    assert missed.status == PostStatus.MISSED
    assert "maximum lateness of 3600 s" in (missed.status_reason or "")
    assert "due_pk" not in _raw(c, biz, too_late.post_id)
    assert len(events) == 1
    assert '"type":"post.missed"' in events[0][0].replace(" ", "")


def test_a_business_can_set_a_shorter_maximum_lateness(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    c = tick_container
    c.table.update_item(
        Key={"pk": business_pk(biz), "sk": "PROFILE"},
        UpdateExpression="SET max_lateness_seconds = :s",
        ExpressionAttributeValues={":s": 300},
    )
    ten_minutes_late = pending_post(c, biz, ["acc_1"], at(c, -600))
    four_minutes_late = pending_post(c, biz, ["acc_1"], at(c, -240))
    tick.dispatch_due(c.tick_ports)
    assert _status(c, biz, ten_minutes_late.post_id) == PostStatus.MISSED
    assert sent.post_ids == [four_minutes_late.post_id]


def test_two_ticks_at_once_send_each_post_once(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    posts = [pending_post(tick_container, biz, ["acc_1"], at(tick_container, i)) for i in range(40)]
    barrier = threading.Barrier(2)
    real_due = tick_container.schedule.due

    def due_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = real_due(*args, **kwargs)
        barrier.wait(timeout=10)  # both ticks have seen every post before either writes
        return found

    tick_container.schedule.due = due_then_wait  # type: ignore[method-assign]
    reports: list[tick.TickReport] = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(tick.dispatch_due(tick_container.tick_ports))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(sent.post_ids) == sorted(p.post_id for p in posts)
    assert sum(r.sent for r in reports) == 40
    assert sum(r.lost_race for r in reports) == 40


def test_a_tick_that_runs_while_another_is_between_its_query_and_its_writes_wins_cleanly(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 60))
    real_due = tick_container.schedule.due
    second: list[tick.TickReport] = []

    def due_then_other_tick(*args: Any, **kwargs: Any) -> Any:
        found = real_due(*args, **kwargs)
        if not second:
            tick_container.schedule.due = real_due  # type: ignore[method-assign]
            second.append(tick.dispatch_due(tick_container.tick_ports))
        return found

    tick_container.schedule.due = due_then_other_tick  # type: ignore[method-assign]
    first = tick.dispatch_due(tick_container.tick_ports)
    assert (first.sent, first.lost_race) == (0, 1)
    assert second[0].sent == 1
    assert sent.post_ids == [post.post_id]


def test_a_cancel_between_the_ticks_query_and_its_write_wins_and_nothing_is_sent(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 60))
    real_due = tick_container.schedule.due

    def due_then_cancel(*args: Any, **kwargs: Any) -> Any:
        found = real_due(*args, **kwargs)
        tick_container.schedule.cancel(biz, post.post_id)
        return found

    tick_container.schedule.due = due_then_cancel  # type: ignore[method-assign]
    report = tick.dispatch_due(tick_container.tick_ports)
    assert report.sent == 0
    assert sent.post_ids == []
    assert _status(tick_container, biz, post.post_id) == PostStatus.CANCELLED


def test_a_cancel_after_the_tick_queued_the_post_still_cancels_it(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 60))
    tick.dispatch_due(tick_container.tick_ports)
    tick_container.schedule.cancel(biz, post.post_id)
    assert _status(tick_container, biz, post.post_id) == PostStatus.CANCELLED
    assert sent.post_ids == [post.post_id]  # its message finds it cancelled and skips it


def test_a_cancel_after_the_worker_started_the_post_is_a_conflict_and_changes_nothing(
    tick_container: Container, biz: str
) -> None:
    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 60))
    tick.dispatch_due(tick_container.tick_ports)
    tick_container.posts.start(biz, post.post_id, "2026-01-01T00:01:00.000000Z")
    with pytest.raises(Conflict, match="is publishing; only a post that is not publishing yet"):
        tick_container.schedule.cancel(biz, post.post_id)
    assert _status(tick_container, biz, post.post_id) == PostStatus.PUBLISHING


def test_a_post_rescheduled_after_the_ticks_query_is_not_sent_at_its_old_time(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    from dataclasses import replace

    from herald.clock import isoformat

    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 60))
    real_due = tick_container.schedule.due

    def due_then_reschedule(*args: Any, **kwargs: Any) -> Any:
        found = real_due(*args, **kwargs)
        moved = replace(
            post, scheduled_for=isoformat(at(tick_container, 3600)), version=post.version + 1
        )
        tick_container.schedule.update_scheduled(moved, expected_version=post.version)
        return found

    tick_container.schedule.due = due_then_reschedule  # type: ignore[method-assign]
    tick.dispatch_due(tick_container.tick_ports)
    assert sent.post_ids == []
    assert _status(tick_container, biz, post.post_id) == PostStatus.PENDING


class _DiesOnSend:
    """An SQS client whose first SendMessageBatch never happens: the Lambda died just before."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.died = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def send_message_batch(self, **kwargs: Any) -> Any:
        if not self.died:
            self.died = True
            raise LambdaKilled("the Lambda was killed")
        return self._real.send_message_batch(**kwargs)


def _journal(container: Container) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = container.table.query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": JOURNAL_PK},
        ConsistentRead=True,
    )["Items"]
    return items


def test_a_tick_killed_between_queueing_and_sending_leaves_a_journal_the_next_tick_resends(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    post = pending_post(c, biz, ["acc_1"], at(c, 150))
    real_sqs = c.sqs
    c.__dict__["sqs"] = _DiesOnSend(real_sqs)
    with pytest.raises(LambdaKilled):
        tick.dispatch_due(c.tick_ports)
    assert _status(c, biz, post.post_id) == PostStatus.QUEUED  # out of the due index, unsent
    assert len(_journal(c)) == 1

    clock.advance(60)  # the next tick: the journal may still belong to a live tick
    assert tick.dispatch_due(c.tick_ports).recovered == 0
    clock.advance(70)  # older than the stale age: its tick is dead
    report = tick.dispatch_due(c.tick_ports)

    assert report.recovered == 1
    assert sent.post_ids == [post.post_id]
    assert sent.delay_of(post.post_id) == 17  # still due in the future: delayed to its second
    assert _journal(c) == []


def test_a_dead_ticks_share_of_a_burst_is_resent_with_the_bursts_lead(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    stranded = pending_post(c, biz, ["acc_1"], at(c, 150))
    real_sqs = c.sqs
    c.__dict__["sqs"] = _DiesOnSend(real_sqs)
    with pytest.raises(LambdaKilled):
        tick.dispatch_due(c.tick_ports)
    clock.advance(130)  # the journal is stale; the post is due in 20 s
    crowd = [pending_post(c, biz, ["acc_1"], at(c, 20), text=f"Sale {n}") for n in range(149)]

    report = tick.dispatch_due(c.tick_ports)

    assert (report.recovered, report.sent) == (1, 149)
    # 150 due in the second: 3 s and 2 s for its whole hundred, for the stranded one too.
    assert {sent.delay_of(p.post_id) for p in [stranded, *crowd]} == {20 - 5}


def test_a_send_sqs_refuses_is_left_in_the_journal_and_resent_by_a_later_tick(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    post = pending_post(c, biz, ["acc_1"], at(c, 10))
    good_url = c.settings.queue_url
    c.settings.queue_url = good_url + "-missing"
    try:
        report = tick.dispatch_due(c.tick_ports)
    finally:
        c.settings.queue_url = good_url
    assert (report.sent, report.send_failures) == (0, 1)
    clock.advance(c.settings.dispatch_journal_stale_seconds + 1)
    assert tick.dispatch_due(c.tick_ports).recovered == 1
    assert [m["Body"] for m in drain(c)] == [
        f'{{"business_id":"{biz}","post_id":"{post.post_id}","scheduled_for":"{post.scheduled_for}"}}'
    ]


def test_journal_recovery_leaves_a_post_a_worker_already_started(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    post = pending_post(c, biz, ["acc_1"], at(c, 10))
    c.__dict__["sqs"] = _DiesOnSend(c.sqs)
    with pytest.raises(LambdaKilled):
        tick.dispatch_due(c.tick_ports)
    c.posts.start(biz, post.post_id, "2026-01-01T00:00:05.000000Z")  # a worker got it anyway
    clock.advance(c.settings.dispatch_journal_stale_seconds + 1)
    report = tick.dispatch_due(c.tick_ports)
    assert report.recovered == 0
    assert sent.post_ids == []
    assert _journal(c) == []


def test_the_tick_stops_before_its_timeout_and_the_next_tick_sends_the_rest(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    posts = [pending_post(c, biz, ["acc_1"], at(c, -30 + i)) for i in range(25)]
    budget = iter([60_000, 60_000] + [1_000] * 100)  # two chunks, then the clock runs out
    report = tick.dispatch_due(c.tick_ports, time_left_ms=lambda: next(budget))
    assert (report.sent, report.left_for_next_tick) == (20, 5)
    assert sent.post_ids == [p.post_id for p in posts[:20]]  # the oldest went first
    clock.advance(60)
    assert tick.dispatch_due(c.tick_ports).sent == 5
    assert sent.post_ids == [p.post_id for p in posts]


def test_posts_spread_over_every_due_shard(tick_container: Container, biz: str) -> None:
    for i in range(64):
        pending_post(tick_container, biz, ["acc_1"], at(tick_container, 3600 + i))
    shards = {
        item["due_pk"]
        for item in tick_container.table.scan(FilterExpression="attribute_exists(due_pk)")["Items"]
    }
    assert shards == {f"DUE#{n}" for n in range(tick_container.settings.due_shards)}


# --- parts: several ticks side by side, each on its own shards ------------------------------


def _shard_of(container: Container, business_id: str, post_id: str) -> int:
    return int(_raw(container, business_id, post_id)["due_pk"].removeprefix("DUE#"))


def test_the_parts_of_a_minute_send_every_due_post_once_each_from_its_own_shards(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    c = tick_container
    posts = [pending_post(c, biz, ["acc_1"], at(c, 30 + i)) for i in range(40)]
    shard = {p.post_id: _shard_of(c, biz, p.post_id) for p in posts}

    by_part = {}
    for k in range(4):
        before = len(sent.post_ids)
        tick.dispatch_due(c.tick_ports, part=tick.Part(k, 4))
        by_part[k] = sent.post_ids[before:]

    assert sorted(sent.post_ids) == sorted(p.post_id for p in posts)  # every post, once
    for k, post_ids in by_part.items():
        assert {shard[p] % 4 for p in post_ids} <= {k}


def test_only_the_first_part_recovers_a_dead_ticks_journal(
    tick_container: Container, biz: str, sent: SentLog, clock: FrozenClock
) -> None:
    c = tick_container
    post = pending_post(c, biz, ["acc_1"], at(c, 150))
    real_sqs = c.sqs
    c.__dict__["sqs"] = _DiesOnSend(real_sqs)
    with pytest.raises(LambdaKilled):
        tick.dispatch_due(c.tick_ports)
    c.__dict__["sqs"] = real_sqs
    clock.advance(c.settings.dispatch_journal_stale_seconds + 1)

    others = [tick.dispatch_due(c.tick_ports, part=tick.Part(k, 8)) for k in range(1, 8)]
    first = tick.dispatch_due(c.tick_ports, part=tick.Part(0, 8))

    assert [r.recovered for r in others] == [0] * 7
    assert first.recovered == 1
    assert sent.post_ids == [post.post_id]


@pytest.mark.parametrize(
    ("event", "part"),
    [
        ({"task": "dispatch"}, tick.Part(0, 1)),
        ({"task": "dispatch", "part": 3, "parts": 8}, tick.Part(3, 8)),
        (load_event("scheduled_event.json"), tick.Part(0, 1)),
    ],
)
def test_a_dispatch_event_names_its_part_or_the_whole_index(
    event: dict[str, Any], part: tick.Part
) -> None:
    assert tick.Part.of(event) == part


@pytest.mark.parametrize(
    "event",
    [
        {"task": "dispatch", "part": 8, "parts": 8},
        {"task": "dispatch", "part": -1, "parts": 8},
        {"task": "dispatch", "part": 0, "parts": 0},
        {"task": "dispatch", "part": "1", "parts": 8},
        {"task": "dispatch", "part": True, "parts": 8},
    ],
)
def test_a_part_that_does_not_exist_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="part"):
        tick.Part.of(event)


# --- the handler ------------------------------------------------------------------------


def test_the_handler_dispatches_on_the_stored_scheduled_event(
    tick_container: Container, biz: str, sent: SentLog, lambda_context: LambdaContext
) -> None:
    from functions.scheduler_tick import app

    post = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 12))
    result = app.handler(load_event("scheduled_event.json"), lambda_context)
    assert result["task"] == "dispatch"
    assert result["sent"] == 1
    assert sent.post_ids == [post.post_id]


def test_the_handler_dispatches_on_the_rules_constant_input(
    tick_container: Container, biz: str, sent: SentLog, lambda_context: LambdaContext
) -> None:
    from functions.scheduler_tick import app

    pending_post(tick_container, biz, ["acc_1"], at(tick_container, 12))
    assert app.handler({"task": "dispatch"}, lambda_context)["sent"] == 1


def test_the_handler_dispatches_the_part_its_rule_names(
    tick_container: Container, biz: str, sent: SentLog, lambda_context: LambdaContext
) -> None:
    from functions.scheduler_tick import app

    posts = [
        pending_post(tick_container, biz, ["acc_1"], at(tick_container, 12)) for _ in range(16)
    ]
    mine = [p.post_id for p in posts if _shard_of(tick_container, biz, p.post_id) % 2 == 1]

    result = app.handler({"task": "dispatch", "part": 1, "parts": 2}, lambda_context)

    assert (result["part"], result["parts"], result["sent"]) == (1, 2, len(mine))
    assert sorted(sent.post_ids) == sorted(mine)


def test_the_handler_runs_the_token_refresh_sweep_on_the_hourly_input(
    tick_container: Container,
    biz: str,
    sent: SentLog,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.scheduler_tick import app

    from herald import tokens

    pending_post(tick_container, biz, ["acc_1"], at(tick_container, 12))
    swept: list[tokens.TokenPorts] = []

    async def fake_sweep(ports: tokens.TokenPorts) -> dict[str, Any]:
        swept.append(ports)
        return {"refreshed": 0, "failed": 0}

    monkeypatch.setattr(tokens, "refresh_sweep", fake_sweep)
    result = app.handler({"task": "refresh_tokens"}, lambda_context)
    assert result == {"task": "refresh_tokens", "refreshed": 0, "failed": 0}
    assert [ports.accounts for ports in swept] == [tick_container.accounts]
    assert sent.post_ids == []  # the hourly input does not dispatch


def test_the_handler_stops_by_the_contexts_remaining_time(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    from functions.scheduler_tick import app

    for i in range(5):
        pending_post(tick_container, biz, ["acc_1"], at(tick_container, i))
    nearly_out = LambdaContext(remaining_ms=1_000)
    result = app.handler({"task": "dispatch"}, nearly_out)
    assert (result["sent"], result["left_for_next_tick"]) == (0, 5)


def test_a_window_edge_uses_the_lookahead_setting(
    tick_container: Container, biz: str, sent: SentLog
) -> None:
    tick_container.settings.lookahead_seconds = 60
    inside = pending_post(tick_container, biz, ["acc_1"], at(tick_container, 59))
    pending_post(tick_container, biz, ["acc_1"], tick_container.clock.now() + timedelta(seconds=61))
    tick.dispatch_due(tick_container.tick_ports)
    assert sent.post_ids == [inside.post_id]
