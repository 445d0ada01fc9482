"""Scheduling benchmarks, each printing one JSON object.

    precision   200 posts scheduled over two minutes, through the EventBridge stand-in's tick
                (template.yaml's rules, real clock), SQS DelaySeconds (moto's server), the SQS
                poller gathering batches as the event source mapping does, the worker and the
                platform sandbox: |published_at - scheduled_for|.
    cost        AWS requests per published single-target post, create to published, counted
                with botocore's `before-call` hook, by phase and operation.
    scale       one tick dispatching 10,000 due posts against moto's server (in a process of
                its own): requests per post, the most in flight, wall time, and the tick's own
                CPU per post, the figure that carries over to Lambda (the README's model).

Usage: python bench/bench_schedule.py [precision|cost|scale|scale1k ...]
(precision, cost and scale1k by default; scale, 10,000 posts, takes about 25 minutes on moto)
Redis: HERALD_BENCH_REDIS_DB (default 8) on 127.0.0.1:6379, flushed first.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        "POWERTOOLS_METRICS_DISABLED": "true",  # keep stdout to the benchmarks' JSON
        "HERALD_ENV": "test",
    }
)
os.environ.setdefault("HERALD_TEST_REDIS_DB", os.environ.get("HERALD_BENCH_REDIS_DB", "8"))
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ['HERALD_TEST_REDIS_DB']}"

# The test helpers (the sandbox's OAuth flow, the stored event samples) reset the environment
# when first imported, so they are imported now, before the moto server's endpoint is set.
import tests.fakes.lambda_events  # noqa: E402
import tests.fakes.oauth  # noqa: E402, F401


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_server(own_process: bool = False) -> Iterator[str]:
    """moto's server on a spare port: in this process (ThreadedMotoServer), or with
    HERALD_BENCH_MOTO=process (or `own_process`) in its own, so it does not share the
    benchmark's GIL and this process's CPU time is Herald's alone. Its own process is the local
    stack's (herald.local.moto_server: moto with its SQS patched for deep queues, whose
    SendMessageBatch otherwise took seconds with 10,000 messages queued)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    if own_process or os.environ.get("HERALD_BENCH_MOTO") == "process":
        import subprocess
        import urllib.request

        child = subprocess.Popen(
            [sys.executable, "-m", "herald.local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)

        def stop() -> None:
            # A loaded machine can take long to stop it: never lose the figures for that.
            child.terminate()
            try:
                child.wait(60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

        os.environ["HERALD_BENCH_MOTO_PID"] = str(child.pid)
    else:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        stop = server.stop  # type: ignore[assignment]
        # In this process moto's backends outlive a server: a benchmark before this one left
        # its table and queues there.
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10
        ).close()
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield endpoint
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        stop()


class RequestCounter:
    """Counts every AWS request a session's clients make (retries included), by phase, and the
    time each operation took."""

    def __init__(self, session: Any) -> None:
        self.phase = "setup"
        self.counts: Counter[tuple[str, str]] = Counter()
        self.seconds: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        session.events.register("before-call", self._count)
        session.events.register("after-call", self._timed)

    def _count(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()
        with self._lock:
            self.counts[(self.phase, model.name)] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _timed(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        started = context.get("bench_started")
        if started is not None:
            with self._lock:
                self.seconds[model.name] += time.perf_counter() - started
                self.in_flight -= 1

    def mean_ms(self, phase: str) -> dict[str, float]:
        counts = self.by_operation(phase)
        return {op: round(1000 * self.seconds[op] / n, 1) for op, n in counts.items() if n}

    def total(self, phase: str | None = None) -> int:
        return sum(n for (p, _), n in self.counts.items() if phase is None or p == phase)

    def by_operation(self, phase: str) -> dict[str, int]:
        return {op: n for (p, op), n in sorted(self.counts.items()) if p == phase}


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


@dataclass
class World:
    container: Any
    resources: Any
    sandbox: Any
    business: dict[str, Any]
    account_id: str
    counter: RequestCounter


@contextmanager
def world(*, clock: Any = None, **settings_extra: Any) -> Iterator[World]:
    import boto3
    from tests.fakes.oauth import connect, sandbox_client, sandbox_settings

    from herald import aio
    from herald import container as composition
    from herald.admin.commands import create_business
    from herald.container import Container
    from herald.local.sandbox.app import create_app as create_sandbox
    from herald.local.sandbox.state import SandboxState
    from herald.local.template import create_resources

    flush_redis()
    session = boto3.session.Session(region_name="us-east-1")
    counter = RequestCounter(session)
    resources = create_resources(session)
    settings = sandbox_settings(
        resources,
        PUBLISH_QUEUE_URL=resources.queue_url,
        PUBLISH_DLQ_URL=resources.dlq_url,
        **settings_extra,
    )
    sandbox = SandboxState.for_settings(settings)
    app = create_sandbox(state=sandbox)
    overrides: dict[str, Any] = {"boto_session": session, "http": sandbox_client(app)}
    if clock is not None:
        overrides["clock"] = clock
    container = Container(settings, **overrides)
    composition.set_container(container)
    business = create_business(container, "Bench Bakery")
    (account,) = connect(container, app, business["business_id"], "linkedin")
    try:
        yield World(container, resources, sandbox, business, account.account_id, counter)
    finally:
        composition.set_container(None)
        aio.run(container.aclose())


def api_post(w: World, body: dict[str, Any]) -> dict[str, Any]:
    from functions.api import app
    from tests.fakes.lambda_events import http_event, response_json

    from herald.local.lambda_runtime import LambdaContext

    event = http_event(
        "POST",
        "/api/v1/schedule",
        headers={"Authorization": f"Bearer {w.business['api_key']}"},
        body=body,
    )
    response = app.handler(event, LambdaContext("ApiFunction", 29))
    assert response["statusCode"] == 201, response
    created: dict[str, Any] = response_json(response)
    return created


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- precision -------------------------------------------------------------------------------


def delay_seconds_honoured(sqs: Any, queue_url: str) -> dict[str, float]:
    """Does moto hold a message for its DelaySeconds? Send one with 2 s and one with none."""
    started = time.time()
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": "late", "MessageBody": "probe-late", "DelaySeconds": 2},
            {"Id": "now", "MessageBody": "probe-now", "DelaySeconds": 0},
        ],
    )
    seen: dict[str, float] = {}
    while len(seen) < 2 and time.time() - started < 10:
        for m in sqs.receive_message(
            QueueUrl=queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10
        ).get("Messages", []):
            seen[m["Body"]] = round(time.time() - started, 2)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return seen


def bench_precision(
    posts: int = 200, spread: float = 120.0, tick_seconds: float = 60.0
) -> dict[str, Any]:
    from herald.clock import isoformat, parse_iso
    from herald.local import eventbridge, sqs_poller
    from herald.local.lambda_runtime import Invoker
    from herald.local.template import load_template

    with moto_server(), world() as w:
        probe = delay_seconds_honoured(w.container.sqs, w.resources.queue_url)
        # The first post is due after the first tick can have seen it (ticks fire at the minute
        # boundaries; the look-ahead is 180 s, so one tick covers three minutes).
        first = datetime.now(UTC) + timedelta(seconds=tick_seconds + 15)
        step = spread / max(1, posts - 1)
        scheduled: dict[str, datetime] = {}
        for i in range(posts):
            at = first + timedelta(seconds=i * step)
            body = api_post(
                w,
                {
                    "account_ids": [w.account_id],
                    "text": f"Precision post {i}",
                    "scheduled_for": isoformat(at),
                },
            )
            scheduled[body["post_id"]] = parse_iso(body["scheduled_for"])

        template = load_template()
        # In Lambda the tick and the worker are separate functions that run at the same time;
        # two invokers keep the stand-ins from queueing one behind the other. The tick's
        # dispatch path runs no coroutine, so it does not share the worker's event loop.
        bridge = eventbridge.EventBridge(
            eventbridge.rules_from_template(template, tick_seconds=tick_seconds),
            Invoker(),
            timeout_seconds=eventbridge.function_timeout(template, eventbridge.FUNCTION),
        )
        poller = sqs_poller.SqsPoller(
            w.container.sqs,
            w.resources.queue_url,
            Invoker(),
            timeout_seconds=eventbridge.function_timeout(template, sqs_poller.FUNCTION),
            # Batches gathered as the event source mapping gathers them (its window included).
            mapping=sqs_poller.Mapping.from_template(template),
            wait_seconds=1,
        )
        bridge.start()
        poller.start()
        biz = w.business["business_id"]
        deadline = time.monotonic() + tick_seconds + spread + 120
        lateness: dict[str, float] = {}
        try:
            while len(lateness) < posts and time.monotonic() < deadline:
                time.sleep(2)
                for post_id, at in scheduled.items():
                    if post_id in lateness:
                        continue
                    post = w.container.posts.get(biz, post_id)
                    (target,) = post.targets.values()
                    if target.published_at:
                        lateness[post_id] = (parse_iso(target.published_at) - at).total_seconds()
        finally:
            bridge.stop()
            poller.stop()
            bridge.join(10)
            poller.join(10)
        values = list(lateness.values())
        absolute = [abs(v) for v in values]
        on_platform = Counter(p["text"] for p in w.sandbox.posts.values())
        return {
            "benchmark": "schedule_precision",
            "posts": posts,
            "spread_seconds": spread,
            "tick_seconds": tick_seconds,
            "published": len(values),
            "published_more_than_once": sum(1 for n in on_platform.values() if n > 1),
            "abs_error_p50_s": round(statistics.median(absolute), 3) if absolute else None,
            "abs_error_p99_s": round(pct(absolute, 0.99), 3) if absolute else None,
            "abs_error_max_s": round(max(absolute), 3) if absolute else None,
            "early_posts": sum(1 for v in values if v < 0),
            "target_p99_s": 2.0,
            "moto_delay_seconds_probe": probe,
            "moto_honours_delay_seconds": probe.get("probe-late", 0) >= 1.9,
        }


# --- cost ------------------------------------------------------------------------------------


def bench_cost(posts: int = 20) -> dict[str, Any]:
    from herald.clock import FrozenClock, isoformat
    from herald.local import sqs_poller
    from herald.local.lambda_runtime import Invoker
    from herald.local.template import load_template
    from herald.tick import dispatch_due

    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    results: dict[str, Any] = {"benchmark": "schedule_cost"}
    with moto_server(), world(clock=clock) as w:
        # A lone post bears a tick's fixed queries (one per shard) and a batch's reads by itself.
        for n in (1, posts, 100):
            w.counter.counts.clear()
            due = clock.now() + timedelta(minutes=10)
            w.counter.phase = "api"
            ids = [
                api_post(
                    w,
                    {
                        "account_ids": [w.account_id],
                        "text": f"Cost post {n}-{i}",
                        "scheduled_for": isoformat(due + timedelta(milliseconds=i)),
                    },
                )["post_id"]
                for i in range(n)
            ]
            w.counter.phase = "setup"
            poller = sqs_poller.SqsPoller(
                w.container.sqs,
                w.resources.queue_url,
                Invoker(),
                timeout_seconds=60,
                mapping=sqs_poller.Mapping.from_template(load_template()),
            )
            # As a tick finds a post: ahead of its time (DelaySeconds 1 here, a real second).
            clock.set(due - timedelta(seconds=1))
            w.counter.phase = "tick"
            dispatch_due(w.container.tick_ports)
            w.counter.phase = "event_source_mapping"
            biz = w.business["business_id"]

            poller.invoker = _PhaseInvoker(poller.invoker, w.counter)  # type: ignore[assignment]
            done = 0
            while done < n:
                # The poller's own ReceiveMessage/DeleteMessageBatch are Lambda's event source
                # mapping; the handler's requests are counted as the worker's.
                w.counter.phase = "event_source_mapping"
                poller.poll_once()
                w.counter.phase = "check"
                done = sum(w.container.posts.get(biz, p).status.value == "published" for p in ids)
            clock.advance(600)
            phases = ("api", "tick", "worker", "event_source_mapping")
            per_post = {p: round(w.counter.total(p) / n, 2) for p in phases}
            results[f"posts_{n}"] = {
                "requests_per_post_by_phase": per_post,
                "requests_per_post_function_code": round(
                    sum(per_post[p] for p in ("api", "tick", "worker")), 2
                ),
                "requests_per_post_including_event_source_mapping": round(
                    sum(per_post.values()), 2
                ),
                "operations": {p: w.counter.by_operation(p) for p in phases},
            }
    results["target_per_post"] = 6
    return results


class _PhaseInvoker:
    """Marks the handler's requests as the worker's while the poller's stay the mapping's."""

    def __init__(self, inner: Any, counter: RequestCounter) -> None:
        self._inner = inner._inner if isinstance(inner, _PhaseInvoker) else inner
        self._counter = counter
        self.region = self._inner.region

    def handler(self, dotted: str) -> Any:
        return self._inner.handler(dotted)

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.phase = "worker"
        try:
            return self._inner.invoke(*args, **kwargs)
        finally:
            self._counter.phase = "event_source_mapping"


# --- scale -----------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def bench_scale(posts: int = 10_000) -> dict[str, Any]:
    import boto3

    from herald.clock import FrozenClock, isoformat
    from herald.container import Container
    from herald.ids import new_id
    from herald.local.template import create_resources
    from herald.platforms.base import Content
    from herald.posts import Post, PostStatus, Target
    from herald.settings import Settings
    from herald.store.schedule import scheduled_item
    from herald.tick import dispatch_due

    # moto in its own process: this process's CPU time is then the tick's own (Herald, botocore).
    with moto_server(own_process=True):
        session = boto3.session.Session(region_name="us-east-1")
        counter = RequestCounter(session)
        resources = create_resources(session)
        settings = Settings(  # type: ignore[call-arg]
            HERALD_ENV="test",
            TABLE_NAME=resources.table_name,
            PUBLISH_QUEUE_URL=resources.queue_url,
            PUBLISH_DLQ_URL=resources.dlq_url,
            EVENTS_TOPIC_ARN=resources.topic_arn,
            REDIS_URL=REDIS_URL,
            # moto evaluates a GSI query by walking every item: 10,000 of them take seconds,
            # which real DynamoDB answers in milliseconds.
            aws_timeout_seconds=120,
        )
        start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
        clock = FrozenClock(start)
        container = Container(settings, boto_session=session, clock=clock)
        now = isoformat(start)
        with container.table.batch_writer() as batch:
            for i in range(posts):
                when = isoformat(start + timedelta(seconds=1 + (i % 170)))
                post = Post(
                    post_id=new_id("post"),
                    business_id=f"biz_{i % 50:03d}",
                    status=PostStatus.PENDING,
                    content=Content(text=f"post {i}"),
                    targets={"acc_1": Target(account_id="acc_1", platform="linkedin")},
                    created_at=now,
                    updated_at=now,
                    scheduled_for=when,
                )
                batch.put_item(Item=scheduled_item(post, settings.due_shards))
        counter.counts.clear()
        counter.seconds.clear()
        counter.phase = "tick"
        moto_pid = int(os.environ["HERALD_BENCH_MOTO_PID"])
        load = os.getloadavg()[0]
        began, cpu_began = time.perf_counter(), time.process_time()
        moto_began = _cpu_seconds(moto_pid)
        report = dispatch_due(container.tick_ports)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
        moto_cpu = _cpu_seconds(moto_pid) - moto_began
        ops = counter.by_operation("tick")
        total = counter.total("tick")
        return {
            "benchmark": "schedule_scale",
            "posts_due": posts,
            "sent": report.sent,
            "left_for_next_tick": report.left_for_next_tick,
            "wall_seconds": round(wall, 2),
            "posts_per_second": round(report.sent / wall, 1) if wall else None,
            "aws_requests": total,
            "aws_requests_per_post": round(total / posts, 3),
            "operations": ops,
            "most_requests_in_flight": counter.most_in_flight,
            "mean_ms_per_request_on_moto": counter.mean_ms("tick"),
            # Herald's own cost, apart from moto's: the tick's CPU (moto runs elsewhere).
            "tick_cpu_seconds": round(cpu, 2),
            "tick_cpu_ms_per_post": round(1000 * cpu / max(1, report.sent), 3),
            "moto_cpu_ms_per_post": round(1000 * moto_cpu / max(1, report.sent), 3),
            "load_average_1m": [round(load, 2), round(os.getloadavg()[0], 2)],
            "due_shards": settings.due_shards,
            "parallel_chunks": settings.dispatch_parallel_chunks,
            "note": "moto's server is one Python process; DynamoDB answers far faster",
        }


BENCHES: dict[str, Callable[[], dict[str, Any]]] = {
    "precision": bench_precision,
    "cost": bench_cost,
    "scale": bench_scale,
    "scale1k": lambda: bench_scale(1_000),
}


def main(argv: list[str]) -> int:
    import logging

    logging.disable(logging.WARNING)
    # The 10,000-post tick takes about 25 minutes on moto (see the README): run it by name.
    for name in argv or ["precision", "cost", "scale1k"]:
        print(json.dumps(BENCHES[name](), default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
