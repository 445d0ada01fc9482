"""Everybody posts at 09:00:00: N single-target posts due at the same second, through the whole
local stack, and how late each reaches the platform. Prints one JSON object per N.

    .venv/bin/python bench/bench_burst.py [--posts 200 1000] [--workers 20] [--latency 0.2]

The stack is `python -m herald.local.stack` as `make dev` runs it, with DynamoDB (and SNS,
Secrets Manager) in one moto process and SQS in another (--one-moto to keep one), both with
moto's SQS patched for deep queues (herald.local.moto_sqs); the API on uvicorn; the EventBridge
stand-in firing the tick from template.yaml's rules (every minute, as in AWS); the platform
sandbox answering every publishing call after --latency seconds (POST /_sandbox/config); and
--workers worker processes, each an SQS poller invoking the publish-worker handler with batches
gathered as template.yaml's event source mapping gathers them, warm (handler imported, clients
made) as the mapping's environments are while posts keep coming.

Why twenty workers: a Lambda execution environment runs one invocation at a time; an SQS event
source mapping starts a burst with five concurrent batches and adds up to 300 invocations a minute
while messages remain (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html), up
to the mapping's MaximumConcurrency, 20 in template.yaml. The tick has a burst's messages arrive
ahead of their second (three seconds plus two per hundred: 23 s for 1,000), so the mapping has
reached its 20 (five a second) long before the second; the default is that number, read from the
template.

Each post is written as the API writes it (its ScheduleRepository item) for one LinkedIn account
connected through the sandbox's OAuth, all for the same whole second, far enough ahead that the
tick queues every one of them and their messages' lead has not begun.

Lateness is when the sandbox recorded the post (it records after its latency) less the due second:
it includes the platform's own 200 ms. The sandbox's record is the witness of "none twice" and of
"none early": no record before the second plus the latency, which a call sent early would make.
Claims are made ahead of the second by design (claim ahead, fire on time): `claimed_ahead_s` says
how far ahead.

CPU seconds of the worker processes, moto's servers and the stack process over the burst are read
from /proc, so the worker's own cost per record is apart from moto's (the model in the README).
Redis: HERALD_BENCH_REDIS_DB (default 8) on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
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
from botocore.config import Config

import _env

ROOT = _env.ROOT

PY = Path(sys.executable)
RESULTS = ROOT / "bench" / "results"
TICKS = os.sysconf("SC_CLK_TCK")
# The benchmark's own reads and writes wait for moto however busy the burst keeps it.
PATIENT = Config(read_timeout=600, retries={"max_attempts": 10, "mode": "standard"})


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 3)


# --- the stack ---------------------------------------------------------------------------------


class Stack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.api_port, self.moto_port, self.sandbox_port = (
            _env.free_port(),
            _env.free_port(),
            _env.free_port(),
        )
        self.sqs_port = _env.free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.moto = f"http://127.0.0.1:{self.moto_port}"
        self.log = RESULTS / "burst-stack.log"
        self.child: subprocess.Popen[bytes] | None = None
        self.table = ""

    def start(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        db = os.environ.get("HERALD_BENCH_REDIS_DB", "8")
        env = {
            **os.environ,
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
        if self.args.split_moto:
            command += ["--sqs-process", "--sqs-port", str(self.sqs_port)]
        self.child = subprocess.Popen(
            command, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT
        )
        deadline = time.monotonic() + 300  # a loaded machine imports slowly
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
        roles: dict[str, list[int]] = {
            "stack": [self.child.pid],
            "moto": [],
            "moto_sqs": [],
            "workers": [],
        }
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
            elif "herald.local.moto_server" in cmdline and parent == self.child.pid:
                sqs = self.args.split_moto and f"-p {self.sqs_port} " in cmdline
                roles["moto_sqs" if sqs else "moto"].append(int(entry.name))
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

        from herald.store.post_items import post_from_item
        from herald.store.table import business_pk

        table = (
            boto3.session.Session(region_name="us-east-1")
            .resource("dynamodb", config=PATIENT)
            .Table(stack.table)
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
            boto3.session.Session(region_name="us-east-1")
            .resource("dynamodb", config=PATIENT)
            .Table(stack.table)
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
    # Due --ahead-seconds after the next tick (they fire at multiples of the period, as the
    # stand-in fires them), within its 180 s look-ahead: as in AWS, where a post is queued by a
    # tick minutes before it is due, the tick has all that time less the burst's lead to queue
    # them (tens of ms a post on moto, the stand-in running the eight parts one after another).
    from herald.settings import Settings
    from herald.tick import lead_seconds

    lead = lead_seconds(Settings(), count)
    period = args.tick_seconds
    creation = 10 + count * 0.03
    tick = math.ceil((time.time() + creation) / period) * period
    due = math.ceil(tick + args.ahead_seconds)
    due_iso = isoformat(datetime.fromtimestamp(due, UTC))
    post_ids = create_posts(stack, business_id, account, texts, due_iso)
    if time.time() >= tick:
        raise SystemExit(
            f"creating {count} posts took until {time.time() - tick:.1f} s after the tick"
        )

    roles = stack.processes()
    time.sleep(max(0.0, tick - 0.5 - time.time()))
    before = {role: cpu_seconds(pids) for role, pids in roles.items()}
    time.sleep(max(0.0, due - lead - time.time()))
    queued_by_lead = sum(
        1 for p in stored_posts(stack, business_id).values() if p.status.value != "pending"
    )
    time.sleep(max(0.0, due - 0.5 - time.time()))
    mid = {role: cpu_seconds(pids) for role, pids in roles.items()}
    claimed_before_due = sum(
        1 for p in stored_posts(stack, business_id).values() if p.status.value == "publishing"
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
    cpu_from_due = {role: round(after[role] - mid[role], 2) for role in after}
    published = statuses.get("published", 0)
    return {
        "benchmark": "burst",
        "posts": count,
        "due": due_iso,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "worker_processes": args.workers,
        "platform_latency_s": args.latency,
        "lead_s": lead,
        "queued_by_its_lead": queued_by_lead,
        "claimed_half_a_second_before_due": claimed_before_due,
        "published": published,
        "statuses": dict(statuses),
        "on_platform": len(per_text),
        "on_platform_twice": sum(1 for n in per_text.values() if n > 1),
        "claimed_ahead_s": {
            "most": round(due - min(claims), 3) if claims else None,
            "p50": pct([due - c for c in claims], 0.5),
            "least": round(due - max(claims), 3) if claims else None,
        },
        # A claim made after the second, and how many attempts its target took: one attempt
        # means its message reached a worker late (every invocation already holding its batch),
        # more means a delivery came back.
        "claimed_after_due": sum(1 for c in claims if c > due),
        "attempts": dict(Counter(t.attempts for p in mine for t in p.targets.values())),
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
        "cpu_seconds_from_the_tick": cpu,
        "cpu_seconds_from_the_second": cpu_from_due,
        "worker_cpu_ms_per_post": round(1000 * cpu["workers"] / published, 2)
        if published
        else None,
        "moto_cpu_ms_per_post": {
            "dynamodb": round(1000 * cpu["moto"] / max(1, published), 2),
            "sqs": round(1000 * cpu["moto_sqs"] / max(1, published), 2),
        },
        "moto_sqs_apart": args.split_moto,
        "mean_lateness_s": round(statistics.fmean(lateness), 3) if lateness else None,
        "target_p99_s": 2.0 if count <= 200 else 5.0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[200, 1000])
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="concurrent invocations (default: the mapping's MaximumConcurrency)",
    )
    parser.add_argument("--latency", type=float, default=0.2, help="each platform call, seconds")
    parser.add_argument("--tick-seconds", type=float, default=60.0, help="as in AWS by default")
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument(
        "--ahead-seconds",
        type=float,
        default=150.0,
        help="seconds from the tick that queues them to their second (under the 180 s look-ahead)",
    )
    parser.add_argument(
        "--one-moto", dest="split_moto", action="store_false", help="SQS on the one moto server"
    )
    args = parser.parse_args(argv)
    if args.workers is None:
        from herald.local.sqs_poller import Mapping
        from herald.local.template import load_template

        args.workers = Mapping.from_template(load_template()).max_concurrency or 5
    stack = Stack(args)
    try:
        stack.start()
        httpx.post(
            f"{stack.sandbox}/_sandbox/config", json={"latency_seconds": args.latency}, timeout=60
        ).raise_for_status()
        for count in args.posts:
            print(json.dumps(burst(stack, count, args)), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
