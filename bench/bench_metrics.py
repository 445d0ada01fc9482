"""What the metrics sync costs per post: AWS requests (botocore's `before-call` hook) and platform
requests (an httpx event hook on the client the readers use), per post per day, over a post's
whole tracked life. Prints one JSON object.

Posts are published to the sandbox on five accounts (X, a LinkedIn member, a Facebook Page, an
Instagram account, a Threads profile), then the tick's `sync_metrics` task runs every simulated
hour for 90 days on a frozen clock that the sandbox follows, against moto in process. The figure
that carries over to AWS is the request count, not the time (moto's).

Usage: python bench/bench_metrics.py [--posts N] [--days D] [--platforms x,threads]
(N per platform, default 25; D 90; every platform unless --platforms names some. Each network's
platform figures do not depend on the others', and moto's queries slow as its table grows, so
one network alone measures its own figures in a fraction of the time; the AWS figures are then
for that network's posts alone.)
Redis: HERALD_BENCH_REDIS_DB (default 11) on 127.0.0.1:6379, flushed first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "herald"), str(ROOT)]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "HERALD_ENV": "test",
    }
)
os.environ.setdefault("HERALD_TEST_REDIS_DB", os.environ.get("HERALD_BENCH_REDIS_DB", "11"))
os.environ.pop("AWS_ENDPOINT_URL", None)
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ['HERALD_TEST_REDIS_DB']}"

import tests.fakes.oauth  # noqa: E402, F401 - resets the environment when first imported

PERIODS = ((0, 1, "day 1"), (1, 7, "days 2-7"), (7, 30, "days 8-30"), (30, 90, "days 31-90"))


def platform_of(url: str) -> str:
    """Which network a request went to (token refreshes included: X's tokens last 2 hours)."""
    if "/threads/" in url:
        return "threads"
    if "/2/tweets" in url or "/2/oauth2/" in url:
        return "x"
    if "/rest/" in url or "/oauth/v2/" in url:
        return "linkedin"
    if "/insights" in url and "_" not in url.split("/")[-2]:
        return "instagram"
    return "facebook"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=25, help="posts per platform")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--platforms",
        default="x,linkedin,facebook,instagram,threads",
        help="comma-separated platforms to publish to",
    )
    args = parser.parse_args()

    import boto3
    import httpx
    import redis
    from moto import mock_aws
    from tests.fakes.oauth import connect, sandbox_client, sandbox_settings

    import herald.local.sandbox.oauth as sandbox_oauth
    import herald.local.sandbox.threads as sandbox_threads
    from herald import aio
    from herald import container as composition
    from herald.admin.commands import create_business
    from herald.clock import FrozenClock
    from herald.container import Container
    from herald.local.sandbox.app import create_app as create_sandbox
    from herald.local.sandbox.state import SandboxState
    from herald.local.template import create_resources
    from herald.metrics.sync import sync_due

    redis.Redis.from_url(REDIS_URL).flushdb()
    # A LinkedIn app without refresh tokens must be reconnected after 60 days; the figure is
    # of reading, not of reconnecting, so the sandbox's token outlives the run.
    sandbox_oauth.LINKEDIN_ACCESS_SECONDS = 400 * 86_400
    # Threads' long-lived tokens last 60 days and the hourly refresh sweep keeps them alive; the
    # sweep does not run here, so the sandbox's token outlives the run for the same reason.
    sandbox_threads.THREADS_LONG_SECONDS = 400 * 86_400

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        aws_calls: Counter[str] = Counter()
        phase = ["setup"]

        def count(model: Any, **_: Any) -> None:
            if phase[0] == "sync":
                aws_calls[model.name] += 1

        session.events.register("before-call", count)
        resources = create_resources(session)
        settings = sandbox_settings(resources)
        clock = FrozenClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
        sandbox = SandboxState.for_settings(settings)
        sandbox.clock = lambda: clock.now().timestamp()
        app = create_sandbox(state=sandbox)
        platform_calls: Counter[tuple[str, str]] = Counter()
        period = ["setup"]

        async def on_request(request: httpx.Request) -> None:
            if phase[0] == "sync":
                platform_calls[period[0], platform_of(str(request.url))] += 1

        http = sandbox_client(app)
        http.event_hooks["request"] = [on_request]
        container = Container(settings, boto_session=session, http=http, clock=clock)
        composition.set_container(container)
        business = create_business(container, "Bench Bakery")
        accounts = {}
        for provider in ("linkedin", "x", "meta", "threads"):
            for account in connect(container, app, business["business_id"], provider):
                accounts.setdefault(account.platform, account.account_id)

        from tests.fakes.api_stack import ApiCaller

        from herald.api.app import create_app

        api = ApiCaller(create_app(container))
        headers = {"Authorization": f"Bearer {business['api_key']}"}
        wanted = set(args.platforms.split(","))
        accounts = {p: a for p, a in accounts.items() if p in wanted}
        for i in range(args.posts):
            for platform, account_id in accounts.items():
                body: dict[str, Any] = {"account_ids": [account_id], "text": f"Loaf {i} {platform}"}
                if platform == "instagram":
                    # Instagram takes JPEG images only.
                    body["image_url"] = "http://sandbox.test/_sandbox/images/loaf.jpg"
                answer = api("POST", "/api/v1/publish/multi", headers=headers, json=body)
                assert answer.status_code == 200, answer.text
        api.close()
        posts = args.posts * len(accounts)

        phase[0] = "sync"
        started = clock.now()
        runs, seconds = 0, 0.0
        aws_by_period: dict[str, Counter[str]] = {}
        for hour in range(1, args.days * 24 + 1):
            clock.set(started + timedelta(hours=hour))
            day = (hour - 1) / 24
            period[0] = next(name for lo, hi, name in PERIODS if lo <= day < hi)
            before = Counter(aws_calls)
            t0 = time.perf_counter()
            aio.run(sync_due(container.metrics_sync_ports, clock.now()))
            seconds += time.perf_counter() - t0
            runs += 1
            aws_by_period.setdefault(period[0], Counter()).update(aws_calls - before)

        composition.set_container(None)
        aio.run(container.aclose())

    def per_post_day(total: int, days: float) -> float:
        return round(total / posts / days, 2)

    periods = {}
    for lo, hi, name in PERIODS:
        if lo >= args.days:
            continue
        days = min(hi, args.days) - lo
        aws = aws_by_period.get(name, Counter())
        periods[name] = {
            "aws_per_post_per_day": per_post_day(sum(aws.values()), days),
            "aws_by_operation_per_post_per_day": {
                op: per_post_day(n, days) for op, n in sorted(aws.items())
            },
            "platform_per_post_per_day": {
                p: round(platform_calls[name, p] / args.posts / days, 2)
                for p in ("x", "linkedin", "facebook", "instagram", "threads")
                if p in accounts
            },
        }
    lifetime_platform = Counter[str]()
    for (_, p), n in platform_calls.items():
        lifetime_platform[p] += n
    print(
        json.dumps(
            {
                "posts": posts,
                "per_platform": args.posts,
                "days": args.days,
                "sync_runs": runs,
                "aws_requests_per_post_lifetime": round(sum(aws_calls.values()) / posts, 1),
                "aws_requests_per_post_per_day_average": per_post_day(
                    sum(aws_calls.values()), args.days
                ),
                "platform_requests_per_post_lifetime": {
                    p: round(n / args.posts, 1) for p, n in sorted(lifetime_platform.items())
                },
                "periods": periods,
                "sync_seconds_total_on_moto": round(seconds, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
