"""Everybody posts at 09:00:00: N single-target posts due at the same second, through the whole
local stack, and how late each reaches the platform. Prints one JSON object per N.

    .venv/bin/python bench/bench_burst.py [--posts 200 1000] [--workers 5] [--latency 0.2]

The stack is `python -m herald.local.stack` as `make dev` runs it: moto's server in a process of
its own (and its SQS in another, --one-moto to keep one), the API on uvicorn, the EventBridge
stand-in firing the tick from template.yaml's rules (every minute, as in AWS), the platform
sandbox answering every publishing call after --latency seconds (POST /_sandbox/config), and
--workers worker processes, each an SQS poller invoking the publish-worker handler with batches
gathered as template.yaml's event source mapping gathers them.

Why five workers: a Lambda execution environment runs one invocation at a time, and an SQS event
source mapping starts a burst with five batches at once, adding up to 300 concurrent invocations a
minute while messages remain (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
Five processes are that start. The ramp is left out: it is not documented second by second, and
leaving it out can only make the figures worse.

Each post is written as the API writes it (its ScheduleRepository item) for one LinkedIn account
connected through the sandbox's OAuth, all for the same whole second, far enough ahead that the
tick queues every one of them before it.

Lateness is when the sandbox recorded the post (it records after its latency) less the due second:
it includes the platform's own 200 ms. The sandbox's record is the witness of "none twice"; "none
early" is checked twice: no claim (written just before the platform call) before the second, and
no record before the second plus the latency (which a call sent early would make).

CPU seconds of the worker processes, moto's server and the stack process over the burst are read
from /proc, so the worker's own cost per record is apart from moto's (the model in the README).
Redis: HERALD_BENCH_REDIS_DB (default 8) on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench.load.seed import _connect

import _env

ROOT = _env.ROOT

PY = Path(sys.executable)
RESULTS = ROOT / "bench" / "results"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 3)


# --- the stack ---------------------------------------------------------------------------------


class Stack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.api_port, self.moto_port, self.sandbox_port = free_port(), free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.moto = f"http://127.0.0.1:{self.moto_port}"
        self.log = RESULTS / "burst-stack.log"
        self.child: subprocess.Popen[bytes] | None = None
        self.sqs_child: subprocess.Popen[bytes] | None = None
        self.table = ""

    def start_sqs(self) -> dict[str, str]:
        """moto's SQS in a server of its own: moto answers a ReceiveMessage in time that grows
        with the queue's depth (about 40 ms a message at 1,000 deep), and one server would
        queue every DynamoDB write behind those. botocore sends SQS calls to
        AWS_ENDPOINT_URL_SQS, the rest to AWS_ENDPOINT_URL."""
        if not self.args.split_moto:
            return {}
        port = free_port()
        self.sqs_child = subprocess.Popen(
            [str(PY), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1.0)
                return {"AWS_ENDPOINT_URL_SQS": url}
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("moto's SQS server did not start")

    def start(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        db = os.environ.get("HERALD_BENCH_REDIS_DB", "8")
        env = {
            **os.environ,
            **self.start_sqs(),
            "RATE_LIMIT_ENABLED": "false",
            "DISPATCH_ON_CREATE_SECONDS": "0",
            # moto answers hundreds of writes at once one after another: a 3 s read timeout
            # would have botocore retry them onto the same queue (DynamoDB answers in ms).
            "AWS_TIMEOUT_SECONDS": "60",
            "HERALD_TICK_SECONDS": str(self.args.tick_seconds),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "PYTHONPATH": f"{ROOT / 'layers' / 'herald'}{os.pathsep}{ROOT}",
        }
        command = [
            str(PY), "-m", "herald.local.stack",
            "--port", str(self.api_port),
            "--moto-port", str(self.moto_port),
            "--sandbox-port", str(self.sandbox_port),
            "--redis-url", f"redis://127.0.0.1:6379/{db}",
            "--no-demo",
            "--moto-process",
            "--worker-processes", str(self.args.workers),
        ]  # fmt: skip
        self.child = subprocess.Popen(
            command, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT
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
                self.child.wait(60)
            except subprocess.TimeoutExpired:
                self.child.kill()
            self.child = None
        if self.sqs_child is not None:
            self.sqs_child.terminate()
            self.sqs_child.wait(10)
            self.sqs_child = None

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.moto,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "TABLE_NAME": self.table,
            "HERALD_ENV": "development",
        }

    def processes(self) -> dict[str, list[int]]:
        """The stack's processes by role: its own, moto's server, the workers."""
        assert self.child is not None
        roles: dict[str, list[int]] = {"stack": [self.child.pid], "moto": [], "workers": []}
        if self.sqs_child is not None:
            roles["moto_sqs"] = [self.sqs_child.pid]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if "herald.local.worker_process" in cmdline:
                roles["workers"].append(int(entry.name))
            elif "moto.server" in cmdline and parent == self.child.pid:
                roles["moto"].append(int(entry.name))
        return roles


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


# --- one burst -----------------------------------------------------------------------------------


def business(stack: Stack) -> tuple[str, str, str]:
    saved = dict(os.environ)
    os.environ.update(stack.env())
    try:
        from herald.admin.commands import create_business
        from herald.container import Container
        from herald.settings import Settings

        made = create_business(Container(Settings()), "Burst Bakery")
    finally:
        os.environ.clear()
        os.environ.update(saved)

    class Where:
        api_url = stack.api

    with httpx.Client(timeout=30) as client:
        [account] = _connect(client, Where, made["api_key"], "linkedin")  # type: ignore[arg-type]
    return made["business_id"], made["api_key"], account


def stored_posts(stack: Stack, business_id: str) -> dict[str, Any]:
    """Herald's own record of the business's posts, read from the table."""
    saved = dict(os.environ)
    os.environ.update(stack.env())
    try:
        import boto3

        from herald.store.posts import post_from_item
        from herald.store.table import business_pk

        table = (
            boto3.session.Session(region_name="us-east-1").resource("dynamodb").Table(stack.table)
        )
        posts: dict[str, Any] = {}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :post)",
            "ExpressionAttributeValues": {":pk": business_pk(business_id), ":post": "POST#"},
        }
        while True:
            page = table.query(**kwargs)
            for item in page.get("Items", []):
                post = post_from_item(item)
                posts[post.post_id] = post
            if "LastEvaluatedKey" not in page:
                return posts
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def create_posts(
    stack: Stack, business_id: str, account: str, texts: list[str], due: str
) -> list[str]:
    """Pending posts for one account, all due at `due`, written as the API writes them
    (ScheduleRepository's item, in BatchWriteItem calls): the API's own cost is not what this
    measures, and moto's server would take longer to create them than the burst takes."""
    saved = dict(os.environ)
    os.environ.update(stack.env())
    try:
        import boto3

        from herald.clock import isoformat
        from herald.ids import new_id
        from herald.platforms.base import Content
        from herald.posts import Post, PostStatus, Target
        from herald.settings import Settings
        from herald.store.schedule import scheduled_item

        shards = Settings().due_shards
        table = (
            boto3.session.Session(region_name="us-east-1").resource("dynamodb").Table(stack.table)
        )
        now = isoformat(datetime.now(UTC))
        post_ids = []
        with table.batch_writer() as batch:
            for text in texts:
                post = Post(
                    post_id=new_id("post"),
                    business_id=business_id,
                    status=PostStatus.PENDING,
                    content=Content(text=text),
                    targets={account: Target(account_id=account, platform="linkedin")},
                    created_at=now,
                    updated_at=now,
                    scheduled_for=due,
                )
                batch.put_item(Item=scheduled_item(post, shards))
                post_ids.append(post.post_id)
        return post_ids
    finally:
        os.environ.clear()
        os.environ.update(saved)


def burst(stack: Stack, count: int, args: argparse.Namespace) -> dict[str, Any]:
    from herald.clock import isoformat, parse_iso

    business_id, _, account = business(stack)
    run = f"{count}-{int(time.time())}"
    texts = [f"Burst {run} post {n}" for n in range(count)]
    # Due after the next tick (they fire at multiples of the period, as the stand-in fires
    # them) has had time to queue every post (tens of ms a post on moto), and before the tick
    # after it: the ticks' index queries cost moto's server as much as the burst's writes.
    period = args.tick_seconds
    creation = 5 + count * 0.01
    tick = math.ceil((time.time() + creation) / period) * period
    due = math.ceil(tick + 8 + count * 0.03)
    due_iso = isoformat(datetime.fromtimestamp(due, UTC))
    post_ids = create_posts(stack, business_id, account, texts, due_iso)
    if time.time() >= tick:
        raise SystemExit(
            f"creating {count} posts took until {time.time() - tick:.1f} s after the tick"
        )

    roles = stack.processes()
    wait_until = due - 0.5
    time.sleep(max(0.0, wait_until - time.time()))
    before = {role: cpu_seconds(pids) for role, pids in roles.items()}
    queued_in_time = sum(
        1 for p in stored_posts(stack, business_id).values() if p.status.value != "pending"
    )
    wanted = set(texts)
    seen: list[dict[str, Any]] = []
    deadline = due + args.drain_seconds
    with httpx.Client(base_url=stack.sandbox, timeout=30) as sandbox:
        while time.time() < deadline:
            time.sleep(1.0)
            posts = sandbox.get("/_sandbox/posts", params={"platform": "linkedin"}).json()["posts"]
            seen = [p for p in posts if p.get("text") in wanted]
            if len({p["text"] for p in seen}) >= count:
                time.sleep(2.0)  # a late duplicate would show by now
                posts = sandbox.get("/_sandbox/posts", params={"platform": "linkedin"}).json()
                seen = [p for p in posts["posts"] if p.get("text") in wanted]
                break
    after = {role: cpu_seconds(pids) for role, pids in roles.items()}
    finished_at = max((p["created_at"] for p in seen), default=due)

    stored = stored_posts(stack, business_id)
    mine = [stored[p] for p in post_ids if p in stored]
    statuses = Counter(p.status.value for p in mine)
    claims = [
        parse_iso(t.claimed_at).timestamp()
        for p in mine
        for t in p.targets.values()
        if t.claimed_at
    ]
    lateness = [p["created_at"] - due for p in seen]
    herald_lateness = [parse_iso(p.published_at).timestamp() - due for p in mine if p.published_at]
    per_text = Counter(p["text"] for p in seen)
    cpu = {role: round(after[role] - before[role], 2) for role in after}
    published = statuses.get("published", 0)
    return {
        "benchmark": "burst",
        "posts": count,
        "due": due_iso,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "worker_processes": args.workers,
        "platform_latency_s": args.latency,
        "queued_before_due": queued_in_time,
        "published": published,
        "statuses": dict(statuses),
        "on_platform": len(per_text),
        "on_platform_twice": sum(1 for n in per_text.values() if n > 1),
        "early_claims": sum(1 for c in claims if c < due),
        "early_on_platform": sum(1 for late in lateness if late < args.latency),
        "lateness_s": {
            "p50": pct(lateness, 0.50),
            "p95": pct(lateness, 0.95),
            "p99": pct(lateness, 0.99),
            "max": pct(lateness, 1.0),
            "min": round(min(lateness), 3) if lateness else None,
        },
        "herald_published_at_lateness_s": {
            "p50": pct(herald_lateness, 0.50),
            "p99": pct(herald_lateness, 0.99),
            "max": pct(herald_lateness, 1.0),
        },
        "drained_in_s": round(finished_at - due, 3),
        "cpu_seconds_over_the_burst": cpu,
        "worker_cpu_ms_per_post": round(1000 * cpu["workers"] / published, 2)
        if published
        else None,
        "moto_cpu_ms_per_post": round(
            1000 * (cpu["moto"] + cpu.get("moto_sqs", 0.0)) / max(1, published), 2
        ),
        "moto_sqs_apart": args.split_moto,
        "mean_lateness_s": round(statistics.fmean(lateness), 3) if lateness else None,
        "target_p99_s": 2.0 if count <= 200 else 5.0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--workers", type=int, default=5, help="concurrent invocations")
    parser.add_argument("--latency", type=float, default=0.2, help="each platform call, seconds")
    parser.add_argument("--tick-seconds", type=float, default=60.0, help="as in AWS by default")
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument(
        "--one-moto", dest="split_moto", action="store_false", help="SQS on the one moto server"
    )
    args = parser.parse_args(argv)
    stack = Stack(args)
    try:
        stack.start()
        httpx.post(
            f"{stack.sandbox}/_sandbox/config", json={"latency_seconds": args.latency}
        ).raise_for_status()
        for count in args.posts:
            print(json.dumps(burst(stack, count, args)), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
