"""The clock is injected so tests control time instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once `now()` has reached `when` (at once if it has)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep_until(self, when: datetime) -> None:
        # The wall clock can be stepped while we sleep (NTP): look again after each sleep, so a
        # wait ends at `when` by the clock everything else reads, never before it. (No event to
        # wait on instead: the time itself is the condition.)
        while (left := (when - self.now()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep_until(self, when: datetime) -> None:
        """Time passes at once: the clock moves to `when` (never back), and other tasks run."""
        if when > self._now:
            self.set(when)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, when: datetime) -> None:
        self._mono += (when - self._now).total_seconds()
        self._now = when


def seconds_until(clock: Clock, when: datetime | None) -> float:
    """How long from now until `when`: 0 once it has passed, or when there is no `when`."""
    if when is None:
        return 0.0
    return max(0.0, (when - clock.now()).total_seconds())


def isoformat(when: datetime) -> str:
    """UTC, second precision or better, always with a `Z`: sortable as a string."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
