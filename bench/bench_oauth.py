"""OAuth callback and confirm latency through the API Lambda handler (Mangum, HTTP API payload
v2) with real Redis, DynamoDB on moto in-process, and X's token and users/me endpoints answered by
an httpx MockTransport (so the figure is Herald's own cost plus its Redis round trips, not X's).
Also counts the Redis round trips of one authorize, one callback and one confirm. Prints JSON.

    .venv/bin/python bench/bench_oauth.py [--calls 300] [--redis-url redis://127.0.0.1:6379/5]

Two runs: accounts written to DynamoDB on moto (in-process, itself ~20 ms a call), and
written to memory, which leaves Herald's own cost plus the Redis round trip.

Each iteration makes a state with `GET /oauth/x/authorize` (not timed), then times
`GET /oauth/x/callback?code=...&state=...` (check and spend the state, exchange the code, read
the user, encrypt both tokens, hold the account in Redis, 302 to the dashboard) and
`POST /oauth/x/confirm` with the key (take the held account, upsert it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import _env

ROOT = _env.ROOT


@dataclass
class Context:
    function_name: str = "herald-api"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:herald-api"
    aws_request_id: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def fake_x(request: Any) -> Any:
    import httpx

    if request.url.path == "/2/oauth2/token":
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": "x-access-token-value",
                "refresh_token": "x-refresh-token-value",
                "scope": "tweet.read tweet.write users.read offline.access media.write",
            },
        )
    if request.url.path == "/2/users/me":
        return httpx.Response(
            200, json={"data": {"id": "1500000000000000001", "name": "Bench", "username": "bench"}}
        )
    return httpx.Response(404)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 0.95), 2),
        "p99": round(percentile(values, 0.99), 2),
        "mean": round(statistics.fmean(values), 2),
    }


class InMemoryAccounts:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}

    def upsert(self, account: Any) -> Any:
        self.items[account.account_id] = account
        return account


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
    )
    args = parser.parse_args()

    import boto3
    import httpx
    from moto import mock_aws
    from tests.fakes.lambda_events import http_event

    from herald import aio
    from herald import container as composition
    from herald.admin.commands import create_business
    from herald.container import Container
    from herald.local.template import create_resources
    from herald.settings import Settings

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        resources = create_resources(session)

        def build(limiter: bool) -> Container:
            settings = Settings(  # type: ignore[call-arg]
                HERALD_ENV="development",
                TABLE_NAME=resources.table_name,
                REDIS_URL=args.redis_url,
                RATE_LIMIT_ENABLED=str(limiter).lower(),
                # A bench box shared with test runs: do not let a slow first connect fail it.
                REDIS_CONNECT_TIMEOUT="0.5",
                REDIS_SOCKET_TIMEOUT="0.5",
            )
            built = Container(
                settings,
                boto_session=session,
                http=httpx.AsyncClient(transport=httpx.MockTransport(fake_x)),
            )
            composition.set_container(built)
            return built

        container = build(limiter=False)
        from functions.api import app as api_app

        handler, ctx = api_app.handler, Context()
        business = create_business(container, "Bench Bakery")
        auth = {"Authorization": f"Bearer {business['api_key']}"}

        def authorize() -> dict[str, str]:
            response = handler(http_event("GET", "/api/v1/oauth/x/authorize", headers=auth), ctx)
            assert response["statusCode"] == 200, response
            url = json.loads(response["body"])["authorization_url"]
            return {"state": parse_qs(urlsplit(url).query)["state"][0], "code": "bench-code"}

        def timed(event: dict[str, Any], status: int) -> tuple[float, dict[str, Any]]:
            started = time.perf_counter()
            response = handler(event, ctx)
            elapsed = (time.perf_counter() - started) * 1000
            assert response["statusCode"] == status, response
            return elapsed, response

        def callback(query: dict[str, str]) -> tuple[float, str]:
            event = http_event("GET", "/api/v1/oauth/x/callback", query=query)
            elapsed, response = timed(event, 302)
            location = response["headers"]["location"]
            return elapsed, parse_qs(urlsplit(location).query)["confirm"][0]

        def confirm(confirmation: str) -> float:
            body = {"confirmation": confirmation}
            event = http_event("POST", "/api/v1/oauth/x/confirm", headers=auth, body=body)
            return timed(event, 200)[0]

        def connect() -> tuple[float, float]:
            took, confirmation = callback(authorize())
            return took, confirm(confirmation)

        for _ in range(args.warmup):
            connect()
        on_moto = [connect() for _ in range(args.calls)]

        # The same with the account write kept in memory: what is left is Herald's own cost
        # plus its Redis round trips (moto's in-process DynamoDB dominates the figures above).
        container.__dict__["accounts"] = InMemoryAccounts()
        for _ in range(args.warmup):
            connect()
        in_memory = [connect() for _ in range(args.calls)]

        def round_trips(limiter: bool) -> dict[str, int]:
            aio.run(container.aclose())
            built = build(limiter)
            client = built.redis
            commands: list[str] = []
            original = client.execute_command

            async def counting(*a: Any, **kw: Any) -> Any:
                commands.append(str(a[0]))
                return await original(*a, **kw)

            client.execute_command = counting  # type: ignore[method-assign]
            query = authorize()
            per_authorize = len(commands)
            commands.clear()
            _, confirmation = callback(query)
            per_callback = len(commands)
            commands.clear()
            confirm(confirmation)
            per_confirm = len(commands)
            aio.run(built.aclose())
            return {"authorize": per_authorize, "callback": per_callback, "confirm": per_confirm}

        trips_off = round_trips(limiter=False)
        trips_on = round_trips(limiter=True)
        composition.set_container(None)

    print(
        json.dumps(
            {
                "benchmark": "oauth_callback_via_mangum",
                "calls": args.calls,
                "redis": args.redis_url,
                "platform": "httpx.MockTransport (X token + users/me)",
                "callback_ms_moto_dynamodb": summary([c for c, _ in on_moto]),
                "confirm_ms_moto_dynamodb": summary([k for _, k in on_moto]),
                "callback_ms_in_memory_accounts": summary([c for c, _ in in_memory]),
                "confirm_ms_in_memory_accounts": summary([k for _, k in in_memory]),
                "redis_round_trips": {
                    "oauth_state_only": trips_off,
                    "with_rate_limiter": trips_on,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
