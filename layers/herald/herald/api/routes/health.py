"""`GET /health`: Redis PING and a cheap DynamoDB read, each with a short timeout, and the
platform API versions Herald speaks with the day each one ends (a warning and a
PlatformVersionAgeing metric when one is near it; herald.platforms.versions)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from herald.api.deps import ContainerDep
from herald.api.ratelimit import RateLimit
from herald.container import Container

router = APIRouter(tags=["health"])

TIMEOUT_SECONDS = 1.0


async def _check(
    name: str, client: Callable[[], Any], probe: Callable[[Any], Awaitable[None]]
) -> dict[str, Any]:
    # The timeout is for the dependency's answer: making the client comes first, untimed, as
    # a fresh environment's first call spends longer making boto3's resource than a read takes.
    started = time.perf_counter()
    try:
        made = await run_in_threadpool(client)
        started = time.perf_counter()
        await asyncio.wait_for(probe(made), timeout=TIMEOUT_SECONDS)
        status, error = "up", None
    except Exception as exc:  # noqa: BLE001 - any failure means "down", named below
        status, error = "down", type(exc).__name__
    result: dict[str, Any] = {
        "name": name,
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if error:
        result["error"] = error
    return result


async def _redis(redis: Any) -> None:
    await redis.ping()


async def _dynamodb(table: Any) -> None:
    # A GetItem on a key that never exists: one read capacity unit at most, no scan.
    await run_in_threadpool(table.get_item, Key={"pk": "HEALTH", "sk": "HEALTH"})


def _versions(container: Container) -> dict[str, Any]:
    # An ageing version does not make Herald unhealthy today: it is reported, not a 503.
    from herald.platforms import versions
    from herald.platforms.version_warnings import announce

    today = container.clock.now().date()
    s = container.settings
    found = versions.statuses(s.linkedin_version, s.meta_graph_version, today)
    announce(found, today, s.service_name)
    return {status.platform: status.as_dict(today) for status in found}


# Limited by address like any public route: each call costs a DynamoDB read. Monitors polling
# every few seconds stay far below the default ceiling.
@router.get(
    "/health",
    summary="Redis and DynamoDB reachability",
    dependencies=[RateLimit("default", by="address")],
)
async def health(container: ContainerDep) -> JSONResponse:
    checks = await asyncio.gather(
        _check("redis", lambda: container.redis, _redis),
        _check("dynamodb", lambda: container.table, _dynamodb),
    )
    down = [c["name"] for c in checks if c["status"] != "up"]
    body: dict[str, Any] = {
        "status": "ok" if not down else "degraded",
        "components": {c.pop("name"): c for c in checks},
        "platform_versions": _versions(container),
    }
    if down:
        return JSONResponse(
            {
                "type": "https://herald.dev/problems/dependency-unavailable",
                "title": "Service Unavailable",
                "status": 503,
                "detail": f"unreachable: {', '.join(down)}",
                **body,
            },
            status_code=503,
            media_type="application/problem+json",
        )
    return JSONResponse(body)
