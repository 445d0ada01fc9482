"""Warm latency of an authenticated `GET /api/v1/me` through the API Lambda handler (Mangum,
HTTP API payload v2), over 1,000 calls after a warm-up. Prints JSON.

    .venv/bin/python bench/bench_api_warm.py [--calls 1000] [--redis-url redis://127.0.0.1:6379/15]

Three runs, each on a fresh container installed as the handler's:
  in_memory         an in-memory key lookup, limiter off: the handler's own cost (the target:
                    under 5 ms p95, excluding the Redis and DynamoDB round trips)
  moto              the real repositories on moto in-process, limiter off
  moto_redis_limit  moto plus the Redis rate limiter (real Redis; one round trip per request)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import _env

ROOT = _env.ROOT

TARGET_P95_MS = 5.0


@dataclass
class Context:
    function_name: str = "herald-api"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:herald-api"
    aws_request_id: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class InMemoryBusinesses:
    """The key lookup and business read the route needs, from a dict."""

    def __init__(self, key_hash: str, business: Any, record: Any) -> None:
        self._key_hash, self._business, self._record = key_hash, business, record

    def find_api_key(self, key_hash: str) -> Any:
        return self._record if key_hash == self._key_hash else None

    def get(self, business_id: str) -> Any:
        return self._business


def me_event(key: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "tests" / "events" / "http_api_v2.json").read_text())
    event = copy.deepcopy(event)
    event.update(
        {
            "routeKey": "ANY /api/v1/{proxy+}",
            "rawPath": "/api/v1/me",
            "rawQueryString": "",
            "cookies": [],
            "headers": {"authorization": f"Bearer {key}", "accept": "application/json"},
            "queryStringParameters": None,
            "pathParameters": {"proxy": "me"},
            "isBase64Encoded": False,
        }
    )
    event.pop("body", None)
    ctx = event["requestContext"]
    ctx.pop("authorizer", None)
    ctx.pop("authentication", None)
    ctx["http"].update({"method": "GET", "path": "/api/v1/me"})
    return event


def measure(handler: Any, event: dict[str, Any], calls: int) -> dict[str, float]:
    context = Context()
    for _ in range(50):
        assert handler(event, context)["statusCode"] == 200
    samples = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        response = handler(event, context)
        samples.append((time.perf_counter_ns() - start) / 1e6)
        if response["statusCode"] != 200:
            raise SystemExit(f"unexpected {response['statusCode']}: {response.get('body')}")
    samples.sort()
    return {
        "calls": calls,
        "p50_ms": round(samples[len(samples) // 2], 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("HERALD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    args = parser.parse_args()

    import boto3
    from functions.api import app as api_app
    from moto import mock_aws

    from herald import aio
    from herald import container as composition
    from herald.admin.commands import create_business
    from herald.auth import hash_key, issue_key
    from herald.container import Container
    from herald.local.template import create_resources
    from herald.settings import Settings
    from herald.store.businesses import ApiKeyRecord, Business

    report: dict[str, Any] = {"benchmark": "api_warm_get_me", "target_p95_ms": TARGET_P95_MS}

    issued = issue_key("biz_bench")
    fake = InMemoryBusinesses(
        hash_key(issued.key),
        Business("biz_bench", "Bench", "2026-01-01T00:00:00Z"),
        ApiKeyRecord(issued.key_id, "biz_bench", revoked=False),
    )
    settings = Settings(HERALD_ENV="development", RATE_LIMIT_ENABLED=False)
    composition.set_container(Container(settings, businesses=fake))
    report["in_memory"] = measure(api_app.handler, me_event(issued.key), args.calls)
    report["in_memory"]["within_target"] = report["in_memory"]["p95_ms"] < TARGET_P95_MS

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        resources = create_resources(session)
        for label, limited in (("moto", False), ("moto_redis_limit", True)):
            settings = Settings(
                HERALD_ENV="development",
                TABLE_NAME=resources.table_name,
                REDIS_URL=args.redis_url,
                RATE_LIMIT_ENABLED=limited,
                RATE_LIMIT_DEFAULT="1000000/minute",
                REDIS_SOCKET_TIMEOUT=1.0,
                REDIS_CONNECT_TIMEOUT=1.0,
            )
            container = Container(settings, boto_session=session)
            composition.set_container(container)
            key = create_business(container, "Bench")["api_key"]
            report[label] = measure(api_app.handler, me_event(key), args.calls)
            aio.run(container.aclose())
    composition.set_container(None)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
