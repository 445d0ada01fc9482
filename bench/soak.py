"""`make soak`: many posts through the whole local stack (API, tick, queue, worker, sandbox) while
the sandbox fails calls and Redis goes away for a while; then a ledger check against the
sandbox's own record of what it received. Bounded in count and time; stops by itself.

    .venv/bin/python bench/soak.py [--posts 1000] [--spread-seconds 180] [--deadline-seconds 1260]

Half the posts are due at once (the API queues them on creation), half spread over
--spread-seconds. Each goes to two of the connected accounts (LinkedIn, X, a Facebook Page,
Instagram). Faults, injected through the sandbox's POST /_sandbox/faults while posts are due:
server errors (10% of the seconds, 1-3 calls each), bursts of 429 with reset headers, and
timeouts (the post is recorded, the answer comes after the client gave up); Redis, a server this
script starts on its own port, is stopped for --redis-outage seconds halfway through.

The ledger: every target ends published exactly once on the platform (its text found exactly once
in GET /_sandbox/posts), or failed with a reason and absent from the platform; none is left
pending, queued or publishing; no text appears twice. Prints JSON with counts, publish lag
percentiles, retries and the success rate after retries. Not covered: killing the worker
mid-batch (the local stack runs it in process).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "herald")]

import httpx  # noqa: E402
from bench.load.seed import _connect  # noqa: E402
from bench.load.services import Services  # noqa: E402

PY = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results"
OPEN = {"pending", "queued", "publishing"}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))], 3)


class Redis:
    """A redis-server of this run's own, so stopping it disturbs nobody else."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.child = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.child is not None:
            self.child.terminate()
            self.child.wait(10)
            self.child = None


class Stack:
    def __init__(self, args: argparse.Namespace, redis_url: str) -> None:
        self.args = args
        self.redis_url = redis_url
        self.log = RESULTS / "soak-stack.log"
        self.child: subprocess.Popen[bytes] | None = None
        self.table = ""

    def start(self) -> None:
        env = {
            **os.environ,
            "RATE_LIMIT_ENABLED": "false",
            "PLATFORM_TIMEOUT_SECONDS": str(self.args.platform_timeout),
            "PUBLISH_RETRY_DELAY": "0.5",
            "HERALD_TICK_SECONDS": str(self.args.tick_seconds),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": f"{ROOT / 'layers' / 'herald'}{os.pathsep}{ROOT}",
        }
        self.child = subprocess.Popen(
            [
                str(PY),
                "-m",
                "herald.local.stack",
                "--port",
                str(self.args.api_port),
                "--moto-port",
                str(self.args.moto_port),
                "--sandbox-port",
                str(self.args.sandbox_port),
                "--redis-url",
                self.redis_url,
                "--no-demo",
            ],
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            for line in text.splitlines():
                if "table " in line and "moto" in line:
                    self.table = line.rsplit("table ", 1)[1].strip()
            if "\nready" in text and self.table:
                return
            if self.child.poll() is not None:
                raise SystemExit(f"the local stack exited:\n{text[-3000:]}")
            time.sleep(0.3)
        raise SystemExit("the local stack did not become ready")

    def stop(self) -> None:
        if self.child is not None:
            self.child.send_signal(signal.SIGINT)
            try:
                self.child.wait(30)
            except subprocess.TimeoutExpired:
                self.child.kill()
            self.child = None


def _business(args: argparse.Namespace, table: str) -> dict[str, Any]:
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{args.moto_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": table,
        "HERALD_ENV": "development",
    }
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from herald.admin.commands import create_business
        from herald.container import Container
        from herald.settings import Settings

        return create_business(Container(Settings()), "Soak Bakery")
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Faults(threading.Thread):
    """Injects faults through the sandbox while posts are due."""

    def __init__(self, sandbox: str, until: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self.until = until
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.halt = threading.Event()

    def run(self) -> None:
        platforms = ["linkedin", "x", "facebook", "instagram"]
        with httpx.Client(base_url=self.sandbox, timeout=5) as client:
            tick = 0
            while time.time() < self.until and not self.halt.is_set():
                tick += 1
                faults: list[dict[str, Any]] = []
                if self.rng.random() < 0.10:
                    faults.append({"kind": "500", "count": self.rng.randint(1, 3)})
                if tick % 20 == 0:
                    faults.append({"kind": "429", "count": 5, "retry_after": 2})
                if tick % 15 == 0:
                    faults.append({"kind": "timeout", "count": 1, "delay": 4})
                for fault in faults:
                    fault["platform"] = self.rng.choice(platforms)
                    try:
                        client.post("/_sandbox/faults", json=fault).raise_for_status()
                        self.injected[fault["kind"]] += int(fault["count"])
                    except httpx.HTTPError:
                        self.injected["injection_failed"] += 1
                self.halt.wait(1.0)


def _create_posts(
    client: httpx.Client,
    headers: dict[str, str],
    accounts: dict[str, str],
    args: argparse.Namespace,
    image: str,
    rng: random.Random,
    run: str,
) -> tuple[list[dict[str, Any]], float, dict[str, int]]:
    created: list[dict[str, Any]] = []
    start = datetime.now(UTC)
    errors: Counter[str] = Counter()
    for n in range(args.posts):
        platforms = rng.sample(sorted(accounts), 2)
        immediate = n % 2 == 0
        # From now, not from the start: creating a thousand posts takes a minute or more.
        now = datetime.now(UTC)
        later = max(30.0, args.spread_seconds - (now - start).total_seconds())
        due = now + timedelta(seconds=2 if immediate else rng.uniform(30, later))
        body: dict[str, Any] = {
            "account_ids": [accounts[p] for p in platforms],
            "text": f"Soak {run} post {n} {rng.random():.8f}",
            "scheduled_for": due.isoformat(),
        }
        if "instagram" in platforms:
            body["image_url"] = image
        response = client.post("/api/v1/schedule", headers=headers, json=body)
        if response.status_code != 201:
            errors[str(response.status_code)] += 1
            if sum(errors.values()) <= 3:
                print(json.dumps({"creation_error": response.text[:300]}), file=sys.stderr)
            continue
        created.append(
            {
                "post_id": response.json()["post_id"],
                "text": body["text"],
                "platforms": platforms,
                "immediate": immediate,
            }
        )
    if errors:
        print(json.dumps({"creation_errors": errors}), file=sys.stderr)
    return created, (datetime.now(UTC) - start).total_seconds(), dict(errors)


def _calendar(client: httpx.Client, headers: dict[str, str], business: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/api/v1/schedule/{business}", headers=headers, params=params)
        page.raise_for_status()
        body = page.json()
        items.extend(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return items


def ledger(
    posts: list[dict[str, Any]], items: list[dict[str, Any]], sandbox: list[dict[str, Any]]
) -> dict[str, Any]:
    by_id = {i["post_id"]: i for i in items}
    on_platform: Counter[tuple[str, str]] = Counter((p["platform"], p["text"]) for p in sandbox)
    texts_twice = sum(1 for n in on_platform.values() if n > 1)
    verdicts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    lags: list[float] = []
    retries = 0
    for post in posts:
        item = by_id.get(post["post_id"])
        if item is None:
            verdicts["post_missing_from_calendar"] += len(post["platforms"])
            continue
        due = datetime.fromisoformat(item["scheduled_for"].replace("Z", "+00:00"))
        if item["status"] in OPEN:
            # A target can read `failed` while its post waits for the message to come back.
            verdicts["stuck"] += len(item["targets"])
            continue
        for target in item["targets"]:
            seen = on_platform[(target["platform"], post["text"])]
            retries += max(0, target["attempts"] - 1)
            status = target["status"]
            if status in OPEN:
                verdicts["stuck"] += 1
            elif status == "published":
                verdicts[
                    "published_once"
                    if seen == 1
                    else ("published_but_absent" if seen == 0 else "published_twice")
                ] += 1
                if target.get("published_at"):
                    at = datetime.fromisoformat(target["published_at"].replace("Z", "+00:00"))
                    lags.append((at - due).total_seconds())
            elif status == "failed":
                if seen:
                    verdicts["failed_but_on_platform"] += 1
                elif target.get("last_error"):
                    verdicts["failed_with_reason"] += 1
                    reasons[target.get("error_kind") or "unknown"] += 1
                else:
                    verdicts["failed_without_reason"] += 1
            else:
                verdicts[f"ended_{status}"] += 1
    targets = sum(verdicts.values())
    ok = verdicts["published_once"] + verdicts["failed_with_reason"]
    return {
        "targets": targets,
        "verdicts": dict(verdicts),
        "failure_kinds": dict(reasons),
        "texts_posted_twice": texts_twice,
        "ledger_ok": ok == targets and texts_twice == 0,
        "success_rate_after_retries": round(verdicts["published_once"] / targets, 4)
        if targets
        else None,
        "retries": retries,
        "publish_lag_seconds": {
            "p50": _percentile(lags, 50),
            "p95": _percentile(lags, 95),
            "p99": _percentile(lags, 99),
            "max": round(max(lags), 3) if lags else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--spread-seconds", type=float, default=180)
    # A retryable failure comes back after the queue's visibility timeout (370 s), up to twice.
    parser.add_argument("--deadline-seconds", type=float, default=1260)
    parser.add_argument("--redis-outage", type=float, default=30)
    parser.add_argument("--tick-seconds", type=float, default=5)
    parser.add_argument("--platform-timeout", type=float, default=3)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--api-port", type=int, default=18100)
    parser.add_argument("--moto-port", type=int, default=15100)
    parser.add_argument("--sandbox-port", type=int, default=18800)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    run = datetime.now(UTC).strftime("%H%M%S")
    began = time.monotonic()
    redis_server = Redis(args.redis_port)
    redis_server.start()
    stack = Stack(args, f"redis://127.0.0.1:{args.redis_port}/0")
    report: dict[str, Any] = {"posts_requested": args.posts}
    try:
        stack.start()
        api = f"http://127.0.0.1:{args.api_port}"
        sandbox = f"http://127.0.0.1:{args.sandbox_port}"
        made = _business(args, stack.table)
        headers = {"Authorization": f"Bearer {made['api_key']}"}
        services = Services(api, sandbox, "", {}, stack.table)
        with httpx.Client(base_url=api, timeout=60) as client:
            httpx.post(f"{sandbox}/_sandbox/config", json={"ig_quota_total": 1_000_000})
            accounts: dict[str, str] = {}
            for provider in ("linkedin", "x", "meta"):
                _connect(httpx.Client(timeout=30), services, made["api_key"], provider)
            for account in client.get("/api/v1/accounts", headers=headers).json()["accounts"]:
                accounts.setdefault(account["platform"], account["account_id"])
            faults = Faults(sandbox, time.time() + args.spread_seconds + 60, args.seed)
            faults.start()
            outage = threading.Timer(
                args.spread_seconds / 2, _outage, (redis_server, args.redis_outage, report)
            )
            outage.start()
            posts, creating, refused = _create_posts(
                client, headers, accounts, args, f"{sandbox}/_sandbox/images/soak.png", rng, run
            )
            report.update(
                {
                    "posts_created": len(posts),
                    "creation_refused": refused,
                    "creation_seconds": round(creating, 1),
                }
            )
            deadline = began + args.deadline_seconds
            items: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                time.sleep(10)
                try:
                    items = _calendar(client, headers, made["business_id"])
                except httpx.HTTPError:
                    continue
                mine = {p["post_id"] for p in posts}
                still = [i for i in items if i["post_id"] in mine and i["status"] in OPEN]
                print(
                    json.dumps(
                        {"open_posts": len(still), "elapsed": round(time.monotonic() - began)}
                    ),
                    file=sys.stderr,
                    flush=True,
                )
                if not still and time.time() > faults.until - 60:
                    break
            faults.halt.set()
            outage.cancel()
            report["faults_injected"] = dict(faults.injected)
            seen = httpx.get(f"{sandbox}/_sandbox/posts", timeout=60).json()["posts"]
            report["sandbox_posts"] = len(seen)
            report["ledger"] = ledger(posts, items, seen)
    finally:
        stack.stop()
        redis_server.stop()
    report["seconds"] = round(time.monotonic() - began, 1)
    print(json.dumps(report, indent=2))
    created_all = report.get("posts_created") == args.posts
    return 0 if created_all and report.get("ledger", {}).get("ledger_ok") else 1


def _outage(redis_server: Redis, seconds: float, report: dict[str, Any]) -> None:
    redis_server.stop()
    report["redis_outage"] = {"seconds": seconds, "at": datetime.now(UTC).isoformat()}
    time.sleep(seconds)
    redis_server.start()


if __name__ == "__main__":
    raise SystemExit(main())
