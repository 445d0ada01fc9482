"""How often a post's metrics are read as it ages, and when what is shown is stale.

A post gathers most of its engagement in its first day, so it is read hourly then, and less and
less often after: every 6 hours in its first week, daily to 30 days, weekly to the end of
tracking (90 days by default). That keeps a busy account far inside every network's read limits
and bounds what one post costs over its life (bench/bench_metrics.py measures it):

    age         interval   readings
    < 1 day     1 hour     24
    1-7 days    6 hours    24
    7-30 days   1 day      23
    30-90 days  7 days     ~9
"""

from __future__ import annotations

from datetime import datetime, timedelta

_STEPS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=30), timedelta(days=1)),
)
_LAST = timedelta(days=7)
# The hourly rule fires at any second of its hour: a reading due a little after a run waits for
# the next, so "stale" allows one interval plus a run's slack.
_SLACK = timedelta(hours=1)


def interval(published_at: datetime, now: datetime) -> timedelta:
    age = now - published_at
    for limit, every in _STEPS:
        if age < limit:
            return every
    return _LAST


def next_due(published_at: datetime, now: datetime, track: timedelta) -> datetime | None:
    """When to read next; None once the post is older than `track` (it leaves the index)."""
    if now - published_at >= track:
        return None
    return now + interval(published_at, now)


def is_stale(published_at: datetime, taken_at: datetime | None, now: datetime) -> bool:
    """Older than the cadence promises (by more than a run's slack), or never read."""
    if taken_at is None:
        return True
    return now - taken_at > interval(published_at, taken_at) + _SLACK
