"""`make load`: the API over HTTP on uvicorn, real Redis, moto server and the platform sandbox, each
its own process on loopback, loaded with a mix of get, list, schedule and publish.

    .venv/bin/python -m bench.load.run [--redis-url redis://127.0.0.1:6379/13] [--quick]

Phases, each bounded in time, printing one JSON document at the end:
  baseline  each route alone, one request at a time (where a request's time goes)
  ramp   wrk, closed loop, 2 threads, connections 1, 2, 4, ... for --step-seconds each: requests
         per second and latency percentiles at each; the best rate whose p95 stays under 200 ms
  rate   a fixed arrival rate (open loop: a slow answer does not delay the next arrival), the
         p95 at that moderate rate
  burst  1,000 requests on 1,000 connections released at once, rate limits at their defaults:
         none may be lost and none may be a 5xx (429s are the limiter doing its job)

Rate limits are raised for ramp and rate (every request still passes through the limiter, one
Redis round trip) so the figures measure serving, not refusing; burst runs the defaults (only the
OAuth limit is raised, for seeding: the mix has no OAuth call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "herald")]
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from bench.load import clients, services  # noqa: E402
from bench.load.seed import SeededBusiness, seed, write_lua  # noqa: E402

HERE = Path(__file__).resolve().parent
P95_TARGET_MS = 200.0
# Seeding connects two accounts per business through the callback, which is limited per address.
SEEDING = {"RATE_LIMIT_OAUTH": "100000/minute"}
RAISED_LIMITS = {
    **SEEDING,
    "RATE_LIMIT_PUBLISH": "1000000/hour",
    "RATE_LIMIT_DEFAULT": "1000000/minute",
    "RATE_LIMIT_ANALYTICS": "1000000/minute",
}


def _flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # only this run's database
    client.close()


def wrk(url: str, connections: int, seconds: int, seed_file: Path) -> dict[str, Any]:
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed: `make load` installs it (apt-get install -y wrk)")
    threads = max(1, min(2, connections))
    result = subprocess.run(
        [
            binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "mix.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "SEED": str(seed_file)},
        timeout=seconds + 60,
        check=False,
    )
    match = re.search(r"^WRKJSON (.*)$", result.stdout, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")
    figures: dict[str, Any] = json.loads(match.group(1))
    figures["connections"] = connections
    return figures


def ramp(url: str, seed_file: Path, steps: list[int], seconds: int) -> dict[str, Any]:
    rows = []
    for connections in steps:
        row = wrk(url, connections, seconds, seed_file)
        rows.append(row)
        print(json.dumps({"ramp": row}), file=sys.stderr, flush=True)
        if row["p95_ms"] > 4 * P95_TARGET_MS:
            break  # far past the target: more connections only queue
    within = [r for r in rows if r["p95_ms"] < P95_TARGET_MS]
    best = max(within, key=lambda r: r["rps"]) if within else None
    return {"steps": rows, "best_under_p95_target": best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--businesses", type=int, default=10)
    parser.add_argument("--posts-each", type=int, default=20)
    parser.add_argument("--step-seconds", type=int, default=10)
    parser.add_argument("--steps", default="1,2,4,8,16,32,64")
    parser.add_argument("--rate", type=float, default=8.0, help="fixed arrival rate, requests/s")
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a short run to check the harness")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.step_seconds, args.rate_seconds, args.burst = "2,8", 3, 5.0, 200
        args.businesses, args.posts_each = 3, 5
    # bench/results/ is ignored by git: the processes' logs and the seeded keys stay out of it.
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    logs = results / "load-logs"
    seed_file = results / "load-seed.lua"
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "api_workers": args.api_workers},
        "mix": "35% GET /posts/{id}, 30% GET /schedule/{business}, 20% POST /schedule, "
        "15% POST /publish/linkedin (to the sandbox)",
    }
    started = time.monotonic()

    _flush(args.redis_url)
    with services.running(
        args.redis_url, logs, api_workers=args.api_workers, extra_env=RAISED_LIMITS
    ) as running:
        seeded = seed(running, args.businesses, args.posts_each)
        write_lua(seeded, seed_file)
        report["baseline"] = asyncio.run(clients.baseline(running.api_url, seeded))
        print(json.dumps({"baseline": report["baseline"]}), file=sys.stderr, flush=True)
        steps = [int(s) for s in args.steps.split(",")]
        report["ramp"] = ramp(running.api_url, seed_file, steps, args.step_seconds)
        report["fixed_rate"] = asyncio.run(
            clients.fixed_rate(running.api_url, seeded, args.rate, args.rate_seconds)
        )
        print(json.dumps({"fixed_rate": report["fixed_rate"]}), file=sys.stderr, flush=True)

    _flush(args.redis_url)
    with services.running(
        args.redis_url, logs, api_workers=args.api_workers, extra_env=SEEDING
    ) as running:
        burst_seeded: list[SeededBusiness] = seed(running, args.businesses, args.posts_each)
        report["burst"] = asyncio.run(clients.burst(running.api_url, burst_seeded, args.burst))
    _flush(args.redis_url)
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    burst = report["burst"]
    return 0 if burst["lost"] == 0 and burst["server_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
