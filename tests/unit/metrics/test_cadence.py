"""How often a post is read as it ages, and when what is shown is stale."""

from __future__ import annotations

from datetime import timedelta

from herald.metrics import cadence
from herald.metrics.model import METRICS, ReadError, Reading, Snapshot
from tests.unit.metrics.helpers import NOW

TRACK = timedelta(days=90)


def test_a_post_is_read_hourly_in_its_first_day_and_less_often_after() -> None:
    for age, every in (
        (timedelta(minutes=5), timedelta(hours=1)),
        (timedelta(days=2), timedelta(hours=6)),
        (timedelta(days=10), timedelta(days=1)),
        (timedelta(days=40), timedelta(days=7)),
    ):
        assert cadence.next_due(NOW - age, NOW, TRACK) == NOW + every


def test_a_post_older_than_the_tracking_window_is_no_longer_read() -> None:
    assert cadence.next_due(NOW - timedelta(days=90), NOW, TRACK) is None


def test_a_reading_is_stale_once_older_than_its_interval_and_a_runs_slack() -> None:
    published = NOW - timedelta(hours=3)

    assert not cadence.is_stale(published, NOW - timedelta(minutes=90), NOW)
    assert cadence.is_stale(published, NOW - timedelta(hours=3), NOW)
    assert cadence.is_stale(published, None, NOW)


def test_a_failed_retryable_read_keeps_the_last_values_with_the_error() -> None:
    before = Snapshot("x", {"impressions": 10}, {"reach": "none"}, "t1", "t1")

    after = before.after(ReadError("rate_limited", "later", retry=True, retry_after=60), "t2")

    assert after.values == {"impressions": 10}
    assert after.taken_at == "t1"
    assert after.attempted_at == "t2"
    assert after.error == {"kind": "rate_limited", "reason": "later"}


def test_a_final_failure_makes_every_metric_unavailable_with_its_reason() -> None:
    before = Snapshot("x", {"impressions": 10}, {}, "t1", "t1")

    after = before.after(ReadError("auth_revoked", "reconnect", retry=False), "t2")

    assert after.values == {}
    assert after.unavailable == dict.fromkeys(METRICS, "reconnect")


def test_a_reading_replaces_values_and_clears_the_error() -> None:
    before = Snapshot("x", {}, {}, None, "t1", {"kind": "unreachable", "reason": "down"})

    after = before.after(Reading({"impressions": 3}, {}), "t2")

    assert after == Snapshot("x", {"impressions": 3}, {}, "t2", "t2")
