"""Herald's rate-limit check against the `limits` library on the same Redis, printing JSON.

Three policies per request (the plan's oauth, publish and per-key ceiling: 10/minute, 20/hour,
300/minute). Herald checks all three in one EVALSHA; `limits` checks them with one `hit` each,
with its moving-window and sliding-window-counter strategies. Subjects rotate so nothing is
refused: the figures are the cost of an admitted request. Latency is measured one request at a
time; throughput with concurrent requests from one process. Round trips are counted by wrapping
each client's `execute_command`.

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/bench_ratelimit.py
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from herald.ratelimit import RateLimiter, parse_policy

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
SPECS = {"oauth": "10/minute", "publish": "20/hour", "default": "300/minute"}
SEQUENTIAL = int(os.environ.get("BENCH_REQUESTS", "5000"))
CONCURRENCY = 32
SUBJECTS = 5000
PREFIX = f"bench{os.getpid()}"

Check = Callable[[str], Awaitable[bool]]


def count_round_trips(client: Any) -> list[int]:
    counter = [0]
    original = client.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        counter[0] += 1
        return await original(*args, **options)

    client.execute_command = counted
    return counter


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Contender:
    """One implementation, measured in blocks interleaved with the others so that noise from
    the rest of the machine falls on all of them alike."""

    def __init__(self, check: Check, round_trips: list[int], tag: str) -> None:
        self.check, self.round_trips, self.tag = check, round_trips, tag
        self.samples: list[float] = []
        self.sequential_seconds = 0.0
        self.trips = 0
        self.concurrent_checks = 0
        self.concurrent_seconds = 0.0
        self.n = 0

    async def warm(self) -> None:
        for i in range(300):
            await self.check(f"{self.tag}:warm:{i}")

    async def sequential_block(self, size: int) -> None:
        trips_before = self.round_trips[0]
        started = time.perf_counter()
        for _ in range(size):
            t = time.perf_counter_ns()
            admitted = await self.check(f"{self.tag}:s{self.n % SUBJECTS}")
            self.samples.append((time.perf_counter_ns() - t) / 1000)
            assert admitted
            self.n += 1
        self.sequential_seconds += time.perf_counter() - started
        self.trips += self.round_trips[0] - trips_before

    async def concurrent_block(self, size: int) -> None:
        async def worker(w: int) -> None:
            for i in range(size // CONCURRENCY):
                await self.check(f"{self.tag}:c{(self.n + w * 7919 + i) % SUBJECTS}")

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
        self.concurrent_seconds += time.perf_counter() - started
        self.concurrent_checks += (size // CONCURRENCY) * CONCURRENCY
        self.n += size

    def report(self) -> dict[str, float]:
        return {
            "p50_us": round(percentile(self.samples, 0.50), 1),
            "p99_us": round(percentile(self.samples, 0.99), 1),
            "mean_us": round(statistics.fmean(self.samples), 1),
            "checks_per_s_sequential": round(len(self.samples) / self.sequential_seconds),
            f"checks_per_s_{CONCURRENCY}_concurrent": round(
                self.concurrent_checks / self.concurrent_seconds
            ),
            "round_trips_per_request": round(self.trips / len(self.samples), 2),
        }


async def measure(contenders: dict[str, Contender]) -> dict[str, dict[str, float]]:
    for contender in contenders.values():
        await contender.warm()
    block = 250
    for _ in range(SEQUENTIAL // block):
        for contender in contenders.values():
            await contender.sequential_block(block)
    for _ in range(SEQUENTIAL // (block * 4)):
        for contender in contenders.values():
            await contender.concurrent_block(block * 4)
    return {name: c.report() for name, c in contenders.items()}


async def main() -> None:
    client = aioredis.Redis.from_url(REDIS_URL, socket_timeout=1.0)
    herald_trips = count_round_trips(client)
    policies = tuple(parse_policy(n, s) for n, s in SPECS.items())
    limiter = RateLimiter(client, {p.name: p for p in policies}, prefix=f"{PREFIX}:herald")

    async def herald_check(subject: str) -> bool:
        return (await limiter.hit(subject, policies)).admitted

    # redis-py, the client Herald uses, so the comparison is of the algorithms and round trips;
    # the library's default client (coredis) is measured too.
    storage = RedisStorage(
        f"async+{REDIS_URL}", key_prefix=f"{PREFIX}:limits", implementation="redispy"
    )
    limits_trips = count_round_trips(storage.bridge.storage)  # type: ignore[attr-defined]
    coredis_storage = RedisStorage(f"async+{REDIS_URL}", key_prefix=f"{PREFIX}:coredis")
    coredis_trips = count_round_trips(coredis_storage.bridge.storage)  # type: ignore[attr-defined]
    items = [parse(s) for s in SPECS.values()]

    def limits_check(strategy: Any) -> Check:
        async def check(subject: str) -> bool:
            admitted = True
            for item in items:
                admitted = await strategy.hit(item, subject) and admitted
            return admitted

        return check

    results: dict[str, Any] = await measure(
        {
            "herald_gcra_one_script": Contender(herald_check, herald_trips, "h"),
            "limits_moving_window": Contender(
                limits_check(MovingWindowRateLimiter(storage)), limits_trips, "m"
            ),
            "limits_sliding_window_counter": Contender(
                limits_check(SlidingWindowCounterRateLimiter(storage)), limits_trips, "w"
            ),
            "limits_moving_window_coredis": Contender(
                limits_check(MovingWindowRateLimiter(coredis_storage)), coredis_trips, "cm"
            ),
            "limits_sliding_window_counter_coredis": Contender(
                limits_check(SlidingWindowCounterRateLimiter(coredis_storage)), coredis_trips, "cw"
            ),
        }
    )
    ours = results["herald_gcra_one_script"]
    for name in [n for n in list(results) if n.startswith("limits_")]:
        theirs = results[name]
        key = f"checks_per_s_{CONCURRENCY}_concurrent"
        results[f"speedup_vs_{name}"] = {
            "p50": round(theirs["p50_us"] / ours["p50_us"], 2),
            "p99": round(theirs["p99_us"] / ours["p99_us"], 2),
            "sequential_throughput": round(
                ours["checks_per_s_sequential"] / theirs["checks_per_s_sequential"], 2
            ),
            "concurrent_throughput": round(ours[key] / theirs[key], 2),
        }

    async for key in client.scan_iter(match=f"{PREFIX}:*", count=1000):
        await client.delete(key)
    await client.aclose()
    await storage.bridge.storage.aclose()  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "benchmark": "ratelimit",
                "redis": REDIS_URL,
                "policies": SPECS,
                "requests": SEQUENTIAL,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
