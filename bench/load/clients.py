"""Two load shapes wrk does not make: a fixed arrival rate (open loop, so a slow answer does not
slow the arrivals and hide itself) and a burst of N requests sent at the same moment on N
connections. Both use the same request mix as bench/load/mix.lua."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from bench.load.seed import SeededBusiness


def _request(rng: random.Random, seeded: list[SeededBusiness], n: int) -> dict[str, Any]:
    b = rng.choice(seeded)
    headers = {"Authorization": f"Bearer {b.api_key}"}
    roll = rng.randint(1, 100)
    if roll <= 35:
        return {
            "method": "GET",
            "url": f"/api/v1/posts/{rng.choice(b.post_ids)}",
            "headers": headers,
        }
    if roll <= 65:
        return {
            "method": "GET",
            "url": f"/api/v1/schedule/{b.business_id}?limit=20",
            "headers": headers,
        }
    if roll <= 85:
        when = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0).isoformat()
        body = {
            "account_ids": [b.accounts["x"]],
            "text": f"Load {n} {rng.random()}",
            "scheduled_for": when,
        }
        return {"method": "POST", "url": "/api/v1/schedule", "headers": headers, "json": body}
    body = {"account_ids": [b.accounts["linkedin"]], "text": f"Now {n} {rng.random()}"}
    return {"method": "POST", "url": "/api/v1/publish/linkedin", "headers": headers, "json": body}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _summary(latencies: list[float], statuses: Counter[str], seconds: float) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    return {
        "requests": sum(statuses.values()),
        "seconds": round(seconds, 2),
        "achieved_rps": round(sum(statuses.values()) / seconds, 1),
        "p50_ms": round(_percentile(ms, 50), 2),
        "p95_ms": round(_percentile(ms, 95), 2),
        "p99_ms": round(_percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        "statuses": dict(sorted(statuses.items())),
    }


async def fixed_rate(
    base_url: str, seeded: list[SeededBusiness], rate: float, seconds: float, seed: int = 1
) -> dict[str, Any]:
    rng = random.Random(seed)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(n: int) -> None:
            started = time.perf_counter()
            try:
                response = await client.request(**_request(rng, seeded, n))
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)

        tasks = []
        begin = time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):
            # Arrivals on a fixed schedule, whatever the answers are doing.
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    result = _summary(latencies, statuses, elapsed)
    result["target_rps"] = rate
    return result


async def baseline(base_url: str, seeded: list[SeededBusiness], calls: int = 30) -> dict[str, Any]:
    """Each route of the mix alone, one request at a time: where the time of a request goes."""
    rng = random.Random(3)
    b = seeded[0]
    headers = {"Authorization": f"Bearer {b.api_key}"}
    when = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0).isoformat()
    routes: dict[str, Any] = {
        "GET /health": lambda n: {"method": "GET", "url": "/health"},
        "GET /api/v1/me": lambda n: {"method": "GET", "url": "/api/v1/me", "headers": headers},
        "GET /api/v1/posts/{id}": lambda n: {
            "method": "GET",
            "url": f"/api/v1/posts/{rng.choice(b.post_ids)}",
            "headers": headers,
        },
        "GET /api/v1/schedule/{business}": lambda n: {
            "method": "GET",
            "url": f"/api/v1/schedule/{b.business_id}?limit=20",
            "headers": headers,
        },
        "POST /api/v1/schedule": lambda n: {
            "method": "POST",
            "url": "/api/v1/schedule",
            "headers": headers,
            "json": {
                "account_ids": [b.accounts["x"]],
                "text": f"Base {n} {rng.random()}",
                "scheduled_for": when,
            },
        },
        "POST /api/v1/publish/linkedin": lambda n: {
            "method": "POST",
            "url": "/api/v1/publish/linkedin",
            "headers": headers,
            "json": {"account_ids": [b.accounts["linkedin"]], "text": f"Base {n} {rng.random()}"},
        },
    }
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for name, make in routes.items():
            latencies: list[float] = []
            statuses: Counter[str] = Counter()
            begin = time.perf_counter()
            for n in range(calls):
                started = time.perf_counter()
                response = await client.request(**make(n))
                latencies.append(time.perf_counter() - started)
                statuses[str(response.status_code)] += 1
            summary = _summary(latencies, statuses, time.perf_counter() - begin)
            out[name] = {k: summary[k] for k in ("p50_ms", "p95_ms", "statuses")}
    return out


async def burst(
    base_url: str, seeded: list[SeededBusiness], count: int, seed: int = 2
) -> dict[str, Any]:
    """`count` requests on `count` connections, released together once every connection is open."""
    rng = random.Random(seed)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    requests = [_request(rng, seeded, n) for n in range(count)]
    # A late answer is an answer: the timeout only bounds the run; latency says how late.
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=300) as client:
        # Open the connections first (a 404 each: no storage behind it), so the burst itself is
        # `count` requests in flight at once rather than `count` TCP handshakes.
        await asyncio.gather(*(client.get("/warm-up") for _ in range(count)))
        gate = asyncio.Event()

        async def one(spec: dict[str, Any]) -> None:
            await gate.wait()
            started = time.perf_counter()
            try:
                response = await client.request(**spec)
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)

        tasks = [asyncio.create_task(one(spec)) for spec in requests]
        await asyncio.sleep(0.2)
        begin = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    result = _summary(latencies, statuses, elapsed)
    answered = sum(v for k, v in statuses.items() if k.isdigit())
    result.update(
        {
            "sent": count,
            "answered": answered,
            "lost": count - answered,
            "server_errors": sum(v for k, v in statuses.items() if k.isdigit() and k >= "500"),
        }
    )
    return result
