"""The limiter against real Redis: policies, subjects, time, concurrency and round trips."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.ratelimit import (
    Decision,
    Policy,
    PolicyState,
    RateLimiter,
    parse_policy,
    policies_from_settings,
)
from herald.settings import Settings
from tests.conftest import REDIS_URL
from tests.fakes.ratelimit_model import TokenBuckets

T0 = 1_767_225_600_000_000
_US = 1_000_000
PLAN = policies_from_settings(Settings(HERALD_ENV="test"))


class FakeTime:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * _US)


async def keys_of(client: aioredis.Redis) -> list[bytes]:
    # redis-py types its commands for the sync and async clients at once: the await is typed here.
    return await cast(Awaitable[list[bytes]], client.keys("*"))


async def fields_of(client: aioredis.Redis, key: str) -> list[bytes]:
    return await cast(Awaitable[list[bytes]], client.hkeys(key))


class CountingRedis:
    """The real client, counting the commands (each one a round trip) sent through it."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.commands: list[str] = []
        original: Callable[..., Awaitable[Any]] = client.execute_command

        async def counted(*args: Any, **options: Any) -> Any:
            self.commands.append(str(args[0]))
            return await original(*args, **options)

        client.execute_command = counted  # type: ignore[method-assign]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def limiter(redis_client: aioredis.Redis, fake_time: FakeTime) -> RateLimiter:
    return RateLimiter(redis_client, PLAN, now_us=fake_time)


@pytest.mark.parametrize("group", ["oauth", "publish", "analytics", "auth_failures", "default"])
async def test_each_policy_admits_its_limit_then_refuses(limiter: RateLimiter, group: str) -> None:
    policy = PLAN[group]
    admitted = [(await limiter.hit("b:acme", (policy,))).admitted for _ in range(policy.limit + 3)]
    assert admitted == [True] * policy.limit + [False] * 3


async def test_the_refusal_says_when_to_retry(limiter: RateLimiter) -> None:
    publish = PLAN["publish"]  # 20/hour: one request back every 180 s
    for _ in range(20):
        await limiter.hit("b:acme", (publish,))
    refused = await limiter.hit("b:acme", (publish,))
    assert not refused.admitted
    assert refused.retry_after == pytest.approx(180.0)
    assert refused.states[0].reset == pytest.approx(3600.0)


async def test_businesses_are_kept_apart(limiter: RateLimiter) -> None:
    oauth = (PLAN["oauth"],)
    for _ in range(10):
        await limiter.hit("b:acme", oauth)
    assert not (await limiter.hit("b:acme", oauth)).admitted
    assert (await limiter.hit("b:globex", oauth)).admitted


async def test_addresses_are_kept_apart(limiter: RateLimiter) -> None:
    failures = (PLAN["auth_failures"],)
    for _ in range(5):
        await limiter.hit("ip:203.0.113.10", failures)
    assert not (await limiter.hit("ip:203.0.113.10", failures)).admitted
    assert (await limiter.hit("ip:203.0.113.11", failures)).admitted


async def test_the_quota_comes_back_with_time(limiter: RateLimiter, fake_time: FakeTime) -> None:
    oauth = (PLAN["oauth"],)  # 10/minute: one back every 6 s, all back after 60 s
    for _ in range(10):
        await limiter.hit("b:acme", oauth)
    fake_time.advance(5.9)
    assert not (await limiter.hit("b:acme", oauth)).admitted
    fake_time.advance(0.1)
    assert (await limiter.hit("b:acme", oauth)).admitted
    fake_time.advance(60)
    assert (await limiter.hit("b:acme", oauth)).states[0].remaining == 9


async def test_the_window_resets_on_redis_own_clock(redis_client: aioredis.Redis) -> None:
    limiter = RateLimiter(redis_client, PLAN)
    fast = (parse_policy("fast", "2/second"),)
    assert [(await limiter.hit("b:acme", fast)).admitted for _ in range(3)] == [True, True, False]
    await asyncio.sleep(1.05)
    assert (await limiter.hit("b:acme", fast)).states[0].remaining == 1


async def test_a_refused_request_is_counted_by_no_policy(limiter: RateLimiter) -> None:
    publish, default = PLAN["publish"], PLAN["default"]
    for _ in range(20):
        await limiter.hit("b:acme", (publish, default))
    refused = await limiter.hit("b:acme", (publish, default))
    assert not refused.admitted
    assert refused.states[1].remaining == 280
    assert (await limiter.hit("b:acme", (default,))).states[0].remaining == 279


async def test_all_policies_of_a_subject_live_in_one_key_named_by_its_hash_tag(
    limiter: RateLimiter, redis_client: aioredis.Redis
) -> None:
    await limiter.hit("b:acme", (PLAN["publish"], PLAN["default"]))
    await limiter.hit("b:acme", (PLAN["analytics"], PLAN["default"]))
    assert await keys_of(redis_client) == [b"herald:rl:{b:acme}"]
    fields = await fields_of(redis_client, "herald:rl:{b:acme}")
    assert sorted(fields) == [b"analytics", b"default", b"publish"]


async def test_a_subject_key_lives_until_its_slowest_bucket_is_full_again(
    limiter: RateLimiter, redis_client: aioredis.Redis
) -> None:
    await limiter.hit("b:acme", (PLAN["publish"], PLAN["default"]))  # 180 s and 0.2 s
    await limiter.hit("b:acme", (PLAN["default"],))  # must not shorten the publish bucket
    ttl = await redis_client.pttl("herald:rl:{b:acme}")
    assert 179_000 < ttl <= 180_000


async def test_a_subject_with_braces_cannot_escape_its_hash_tag(limiter: RateLimiter) -> None:
    assert limiter.key("ip:{evil}") == "herald:rl:{ip:(evil)}"


@pytest.mark.parametrize("count", [1, 2, 3, 5])
async def test_one_round_trip_per_request_whatever_the_number_of_policies(
    redis_client: aioredis.Redis, fake_time: FakeTime, count: int
) -> None:
    counting = CountingRedis(redis_client)
    policies = [Policy(f"p{i}", 100, 60) for i in range(count)]
    limiter = RateLimiter(redis_client, {p.name: p for p in policies}, now_us=fake_time)
    await limiter.hit("b:warm", policies)  # loads the script if this Redis lacks it
    counting.commands.clear()
    for _ in range(10):
        await limiter.hit("b:acme", policies)
    assert counting.commands == ["EVALSHA"] * 10


async def test_a_refusal_this_instance_saw_is_answered_without_redis(
    redis_client: aioredis.Redis, fake_time: FakeTime
) -> None:
    counting = CountingRedis(redis_client)
    limiter = RateLimiter(redis_client, PLAN, now_us=fake_time)
    failures = (PLAN["auth_failures"],)  # 5/minute: one back every 12 s
    for _ in range(6):
        await limiter.hit("ip:203.0.113.10", failures)
    sent = len(counting.commands)
    fake_time.advance(11)
    known = limiter.known_refusal("ip:203.0.113.10", failures)
    assert known is not None
    assert known.retry_after == pytest.approx(1.0)
    assert limiter.known_refusal("ip:203.0.113.11", failures) is None
    fake_time.advance(1)
    assert limiter.known_refusal("ip:203.0.113.10", failures) is None
    assert len(counting.commands) == sent


async def test_fifty_concurrent_clients_get_exactly_the_limit_through(
    limiter: RateLimiter,
) -> None:
    analytics = (PLAN["analytics"],)  # 100/minute
    decisions = await asyncio.gather(*(limiter.hit("b:acme", analytics) for _ in range(50 * 4)))
    assert sum(d.admitted for d in decisions) == 100


async def test_fifty_clients_racing_on_redis_clock_stay_within_the_bound_in_every_window(
    redis_client: aioredis.Redis,
) -> None:
    limiter = RateLimiter(redis_client, PLAN)
    policy = parse_policy("fast", "10/second")
    admitted: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 1.5

    async def client() -> None:
        while loop.time() < deadline:
            decision = await limiter.hit("b:acme", (policy,))
            if decision.admitted:
                admitted.append(decision.at_us)

    await asyncio.gather(*(client() for _ in range(50)))
    assert len(admitted) >= 10
    assert _admitted_within_bound(admitted, policy)
    # In particular no single instant lets more than the limit through.
    assert max(admitted.count(t) for t in admitted) <= policy.limit


def _admitted_within_bound(times: list[int], policy: Policy) -> bool:
    """GCRA's guarantee: over any span [t_i, t_j] at most limit + span/interval get through."""
    times = sorted(times)
    for i, j in itertools.combinations(range(len(times)), 2):
        if j - i + 1 > policy.limit + (times[j] - times[i]) // policy.interval_us:
            return False
    return True


_steps = st.lists(st.tuples(st.integers(0, 2_500_000), st.integers(1, 50)), min_size=1, max_size=25)
_limits = st.lists(st.tuples(st.integers(1, 12), st.integers(1, 4)), min_size=1, max_size=3)
_subjects = itertools.count()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limits=_limits, steps=_steps)
def test_concurrent_clients_agree_with_the_reference_model(
    redis_sync: Any, limits: list[tuple[int, int]], steps: list[tuple[int, int]]
) -> None:
    policies = [Policy(f"p{i}", n, s) for i, (n, s) in enumerate(limits)]
    asyncio.run(_run_timeline(policies, steps, f"b:prop{next(_subjects)}"))


async def _run_timeline(policies: list[Policy], steps: list[tuple[int, int]], subject: str) -> None:
    clock = FakeTime()
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        limiter = RateLimiter(client, {p.name: p for p in policies}, now_us=clock)
        model = TokenBuckets(policies)
        admitted_at: list[int] = []
        for gap, clients in steps:
            clock.now += gap
            # Up to 50 clients at the same instant, racing one key.
            decisions = await asyncio.gather(
                *(limiter.hit(subject, policies) for _ in range(clients))
            )
            expected = sum(model.hit(clock.now) for _ in range(clients))
            got = sum(d.admitted for d in decisions)
            assert got == expected
            admitted_at += [clock.now] * got
        assert all(_admitted_within_bound(admitted_at, p) for p in policies)
    finally:
        await client.aclose()


async def test_redis_time_is_used_when_no_clock_is_given(
    redis_client: aioredis.Redis,
) -> None:
    limiter = RateLimiter(redis_client, PLAN)
    decision = await limiter.hit("b:acme", (PLAN["oauth"],))
    assert decision.admitted
    assert decision.states[0].remaining == 9


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts and never answers: a Redis that hangs."""
    writers: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(lambda r, w: writers.append(w), "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    for writer in writers:
        writer.close()
    await server.wait_closed()


async def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await call()
    return result, loop.time() - started


async def test_a_hanging_redis_costs_a_request_tens_of_milliseconds(silent_server: int) -> None:
    client = aioredis.Redis.from_url(
        f"redis://127.0.0.1:{silent_server}/0", socket_timeout=0.05, socket_connect_timeout=0.05
    )
    try:
        limiter = RateLimiter(client, PLAN)
        decision, elapsed = await _timed(lambda: limiter.hit("b:acme", (PLAN["oauth"],)))
        assert decision.admitted
        assert decision.degraded
        assert elapsed < 0.15
    finally:
        await client.aclose()


async def test_a_dead_redis_is_retried_at_most_once_a_second() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.05)
    mono = [0.0]
    counting = CountingRedis(client)
    try:
        limiter = RateLimiter(client, PLAN, monotonic=lambda: mono[0])
        for _ in range(20):
            assert (await limiter.hit("b:acme", (PLAN["default"],))).degraded
        assert len(counting.commands) == 1
        mono[0] = 1.0
        await limiter.hit("b:acme", (PLAN["default"],))
        assert len(counting.commands) == 2
        assert limiter.degraded
    finally:
        await client.aclose()


async def test_a_refund_gives_one_request_back_to_the_named_policies_only(
    limiter: RateLimiter,
) -> None:
    publish, default = PLAN["publish"], PLAN["default"]
    for _ in range(3):
        await limiter.hit("b:acme", (publish, default))

    await limiter.refund("b:acme", (publish,))
    after = await limiter.hit("b:acme", (publish, default))

    assert [s.remaining for s in after.states] == [17, 296]


async def test_a_refund_never_fills_a_bucket_past_full(
    limiter: RateLimiter, redis_client: aioredis.Redis, fake_time: FakeTime
) -> None:
    oauth = (PLAN["oauth"],)
    await limiter.hit("b:acme", oauth)
    fake_time.advance(3)

    await limiter.refund("b:acme", oauth)
    await limiter.refund("b:acme", oauth)

    assert await fields_of(redis_client, "herald:rl:{b:acme}") == []
    assert (await limiter.hit("b:acme", oauth)).states[0].remaining == 9


async def test_a_refund_while_redis_is_away_is_made_in_process(fake_time: FakeTime) -> None:
    import redis.asyncio as aioredis

    gone = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.05)
    limiter = RateLimiter(gone, PLAN, now_us=fake_time)
    oauth = (PLAN["oauth"],)
    try:
        for _ in range(10):
            await limiter.hit("b:acme", oauth)
        await limiter.refund("b:acme", oauth)
        assert (await limiter.hit("b:acme", oauth)).admitted
        assert not (await limiter.hit("b:acme", oauth)).admitted
    finally:
        await gone.aclose()


def test_more_quota_comes_after_one_interval_when_none_is_left() -> None:
    publish = PLAN["publish"]  # 20/hour: 180 s apart
    spent = Decision(True, (PolicyState(publish, 0, 3600.0, 0.0),))
    half = Decision(True, (PolicyState(publish, 10, 1800.0, 0.0),))
    refused = Decision(False, (PolicyState(publish, 0, 3700.0, 100.0),))

    assert spent.closest.more_in == pytest.approx(180.0)
    assert half.closest.more_in == pytest.approx(180.0)
    assert refused.closest.more_in == refused.retry_after == 100.0
