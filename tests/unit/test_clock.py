"""The clocks' waits: the system clock's never ends before its time, the frozen one's at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from herald.clock import FrozenClock, SystemClock


def test_the_system_clock_wakes_at_or_after_the_time_it_was_asked_for() -> None:
    clock = SystemClock()
    when = clock.now() + timedelta(milliseconds=30)
    asyncio.run(clock.sleep_until(when))
    assert clock.now() >= when


def test_a_frozen_clock_moves_to_the_time_waited_for_and_never_back() -> None:
    clock = FrozenClock()
    start = clock.now()
    asyncio.run(clock.sleep_until(start + timedelta(seconds=5)))
    assert clock.now() == start + timedelta(seconds=5)
    asyncio.run(clock.sleep_until(start))
    assert clock.now() == start + timedelta(seconds=5)
