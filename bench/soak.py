"""`make soak`: many posts through the whole local stack (API, tick, queue, worker, sandbox) while
the sandbox fails calls, the worker is killed and Redis goes away for a while; then a ledger
check against the sandbox's own record of what it received. Bounded in count and time; stops by
itself.

    .venv/bin/python bench/soak.py [--posts 1000] [--spread-seconds 180] [--deadline-seconds 1260]

Half the posts are due at once (the API queues them on creation), half between 30 s and
--spread-seconds after their creation; --creators clients create them, at --create-rate posts a
second if given. Each goes to two of the connected accounts (LinkedIn, X, a Facebook Page,
Instagram). Faults, injected through the sandbox's POST /_sandbox/faults as targets fall due, in
proportion to them: server errors (--server-error-share of the targets, 10%), timeouts (the post
is recorded, the answer comes after the client gave up; --timeout-share, 1%), and every 20 s a
burst of five 429s with reset headers. The sandbox's duplicate refusal is off, so a second post of
the same text is recorded, not refused. moto's server runs in a process of its own. So does each
worker (`herald.local.worker_process`; --workers of them at once, as Lambda runs concurrent
instances), which SIGKILLs itself in --kill-rate of its batches (1%), at a random moment or right
after a platform accepted a post and before the result was written; the stack starts another at
once and the batch comes back after the queue's visibility timeout (template.yaml's 370 s).
Redis, a server this script starts on its own port, is stopped for --redis-outage seconds halfway
through the time posts fall due.

The ledger: every target ends published exactly once on the platform (its text found exactly once
in GET /_sandbox/posts), failed with a reason and absent from the platform, or unconfirmed with a
reason (a run died mid-publish and reconciliation could not prove it either way; counted apart,
by whether the platform has it once or not at all); none is left pending, queued or publishing;
no text appears twice. A creation the API refused must not reach a platform either. Prints JSON
with counts, kills and what became of the targets they hit, examples of every verdict but the two
clean ones, publish lag percentiles, retries and the success rate after retries. The stack's log,
the workers' included, is bench/results/soak-stack.log.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "herald")]

import httpx  # noqa: E402
from bench.load.seed import _connect  # noqa: E402
from bench.load.services import Services  # noqa: E402

from herald.local.worker_process import EXIT_MARK, KILL_MARK, RESTART_MARK  # noqa: E402

PY = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results"
OPEN = ["pending", "queued", "publishing"]
TAKEOVER = "taking over a stale claim"


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
        self.queue_url = ""

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
                "--moto-process",
                "--worker-process",
                "--worker-processes",
                str(self.args.workers),
                "--worker-kill-rate",
                str(self.args.kill_rate),
                "--worker-seed",
                str(self.args.seed),
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
                if line.strip().startswith("SQS poller"):
                    self.queue_url = line.split()[2]
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
    """Injects faults through the sandbox as targets fall due, in proportion to them.

    A fault waits in the sandbox for the next call to its platform, so the shares hold however
    far the worker lags behind the due times.
    """

    def __init__(self, sandbox: str, seed: int, server_errors: float, timeouts: float) -> None:
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self.rng = random.Random(seed)
        self.shares = {"500": server_errors, "timeout": timeouts}
        self.injected: Counter[str] = Counter()
        self.targets_due = 0
        self.last_due = 0.0
        self.halt = threading.Event()
        self._due: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def add(self, due: float, platforms: list[str]) -> None:
        with self._lock:
            for platform in platforms:
                heapq.heappush(self._due, (due, platform))
            self.last_due = max(self.last_due, due)

    def _fallen_due(self, now: float) -> list[str]:
        with self._lock:
            fallen = []
            while self._due and self._due[0][0] <= now:
                fallen.append(heapq.heappop(self._due)[1])
            return fallen

    def run(self) -> None:
        with httpx.Client(base_url=self.sandbox, timeout=5) as client:
            tick = 0
            while not self.halt.is_set():
                tick += 1
                planned: Counter[tuple[str, str]] = Counter()
                fallen = self._fallen_due(time.time())
                self.targets_due += len(fallen)
                for platform in fallen:
                    draw = self.rng.random()
                    if draw < self.shares["500"]:
                        planned["500", platform] += 1
                    elif draw < self.shares["500"] + self.shares["timeout"]:
                        planned["timeout", platform] += 1
                if tick % 20 == 0 and time.time() < self.last_due + 30:
                    planned["429", self.rng.choice(["linkedin", "x", "facebook", "instagram"])] += 5
                for (kind, platform), count in planned.items():
                    # Past the worker's PLATFORM_TIMEOUT_SECONDS (3 s): the client gives up first.
                    fault = {"kind": kind, "platform": platform, "count": count}
                    fault |= {"retry_after": 2} if kind == "429" else {"delay": 4}
                    try:
                        client.post("/_sandbox/faults", json=fault).raise_for_status()
                        self.injected[kind] += count
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
    faults: Faults,
) -> tuple[list[dict[str, Any]], float, dict[str, int], list[dict[str, Any]]]:
    # Drawn up front, in order, so a seed gives the same posts whatever the threads' timing.
    plans = [
        (n, rng.sample(sorted(accounts), 2), rng.random(), f"{rng.random():.8f}")
        for n in range(args.posts)
    ]
    created: dict[int, dict[str, Any]] = {}
    errors: Counter[str] = Counter()
    # What the API said it did not create: the ledger looks for these on the platforms too.
    refusals: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = datetime.now(UTC)
    paced_from = time.monotonic()

    def create(plan: tuple[int, list[str], float, str]) -> None:
        n, platforms, draw, suffix = plan
        if args.create_rate:
            time.sleep(max(0.0, paced_from + n / args.create_rate - time.monotonic()))
        immediate = n % 2 == 0
        # Ahead of its own creation, not of the run's start: the load then follows the creation
        # rate instead of piling up at the end of a window that creating every post has shrunk.
        now = datetime.now(UTC)
        ahead = 30 + draw * max(0.0, args.spread_seconds - 30)
        due = now + timedelta(seconds=2 if immediate else ahead)
        body: dict[str, Any] = {
            "account_ids": [accounts[p] for p in platforms],
            "text": f"Soak {run} post {n} {suffix}",
            "scheduled_for": due.isoformat(),
        }
        if "instagram" in platforms:
            body["image_url"] = image
        try:
            response = client.post("/api/v1/schedule", headers=headers, json=body)
        except httpx.HTTPError as exc:
            with lock:
                errors[type(exc).__name__] += 1
                refusals.append({"n": n, "answer": type(exc).__name__, "text": body["text"]})
            return
        with lock:
            if response.status_code != 201:
                errors[str(response.status_code)] += 1
                answered = {"answer": response.status_code, "at": datetime.now(UTC).isoformat()}
                refusals.append({"n": n, **answered, "text": body["text"]})
                if sum(errors.values()) <= 3:
                    print(json.dumps({"creation_error": response.text[:300]}), file=sys.stderr)
                return
            faults.add(due.timestamp(), platforms)
            created[n] = {
                "post_id": response.json()["post_id"],
                "text": body["text"],
                "platforms": platforms,
                "immediate": immediate,
            }
            if len(created) % 500 == 0:
                elapsed = (datetime.now(UTC) - start).total_seconds()
                progress = {"created": len(created), "elapsed": round(elapsed)}
                print(json.dumps(progress), file=sys.stderr, flush=True)

    # A few clients at once, as a dashboard's users would be: one at a time measures latency.
    pool = ThreadPoolExecutor(args.creators)
    try:
        list(pool.map(create, plans))
    finally:
        # A Ctrl-C must not wait for every paced post still to come.
        pool.shutdown(cancel_futures=True)
    if errors:
        print(json.dumps({"creation_errors": errors}), file=sys.stderr)
    posts = [created[n] for n in sorted(created)]
    return posts, (datetime.now(UTC) - start).total_seconds(), dict(errors), refusals


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


def _queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _json_from(line: str, marker: str, skip: int) -> dict[str, Any] | None:
    # Two processes write the stack's log: a line of one may start inside a line of the other.
    at = line.find(marker)
    if at < 0:
        return None
    try:
        found: dict[str, Any] = json.loads(line[at + skip :])
    except ValueError:
        return None
    return found


def worker_record(log: Path) -> dict[str, Any]:
    """What the worker process printed: its kills, the restarts, the stale claims taken over."""
    kills: list[dict[str, Any]] = []
    restarts: list[dict[str, Any]] = []
    exits: list[dict[str, Any]] = []
    takeovers: dict[tuple[str, str], str] = {}
    for line in log.read_text(errors="replace").splitlines():
        for mark, into in ((KILL_MARK, kills), (RESTART_MARK, restarts), (EXIT_MARK, exits)):
            found = _json_from(line, f"{mark} ", len(mark) + 1)
            if found is not None:
                into.append(found)
        if TAKEOVER in line:
            logged = _json_from(line, '{"level"', 0) or {}
            if logged.get("post_id") and logged.get("account_id"):
                takeovers[logged["post_id"], logged["account_id"]] = logged.get("timestamp", "")
    # A process's batches: the one it died in, or all it ran before it stopped.
    batches = sum(k["invocation"] for k in kills) + sum(e.get("invocations") or 0 for e in exits)
    return {
        "kills": kills,
        "restarts": restarts,
        "batches": batches,
        "takeovers": takeovers,
    }


def ledger(
    posts: list[dict[str, Any]],
    items: list[dict[str, Any]],
    sandbox: list[dict[str, Any]],
    worker: dict[str, Any],
) -> dict[str, Any]:
    by_id = {i["post_id"]: i for i in items}
    on_platform: Counter[tuple[str, str]] = Counter((p["platform"], p["text"]) for p in sandbox)
    received: dict[tuple[str, str], list[float]] = {}
    for p in sandbox:
        received.setdefault((p["platform"], p["text"]), []).append(p.get("created_at") or 0.0)
    texts_twice = sum(1 for n in on_platform.values() if n > 1)
    killed: dict[str, list[dict[str, Any]]] = {}
    for kill in worker["kills"]:
        for post_id in kill.get("post_ids", []):
            killed.setdefault(post_id, []).append(kill)
    # Each verdict other than the two clean ones, with what a person needs to follow it up.
    examples: dict[str, list[dict[str, Any]]] = {}
    verdicts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    in_killed: Counter[str] = Counter()
    taken_over: Counter[str] = Counter()
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
                verdict = "stuck"
            elif status == "published":
                verdict = {0: "published_but_absent", 1: "published_once"}.get(
                    seen, "published_twice"
                )
                if target.get("published_at"):
                    at = datetime.fromisoformat(target["published_at"].replace("Z", "+00:00"))
                    lags.append((at - due).total_seconds())
            elif status == "failed":
                if seen:
                    verdict = "failed_but_on_platform"
                elif target.get("last_error"):
                    verdict = "failed_with_reason"
                    reasons[target.get("error_kind") or "unknown"] += 1
                else:
                    verdict = "failed_without_reason"
            elif status == "unconfirmed":
                # Never posted blind after a death mid-publish: a person decides. Whether the
                # platform has it says if the dead run got its post out before it died.
                if seen > 1:
                    verdict = "unconfirmed_posted_twice"
                elif not target.get("last_error"):
                    verdict = "unconfirmed_without_reason"
                else:
                    verdict = "unconfirmed_on_platform" if seen else "unconfirmed_not_on_platform"
            else:
                verdict = f"ended_{status}"
            verdicts[verdict] += 1
            if post["post_id"] in killed:
                in_killed[verdict] += 1
            took_over = worker["takeovers"].get((post["post_id"], target["account_id"]))
            if took_over is not None:
                taken_over[verdict] += 1
            if verdict not in ("published_once", "failed_with_reason"):
                shown = examples.setdefault(verdict, [])
                if len(shown) < 10:
                    times = received.get((target["platform"], post["text"]), [])
                    shown.append(
                        {
                            "post_id": post["post_id"],
                            "platform": target["platform"],
                            "account_id": target["account_id"],
                            "status": target["status"],
                            "attempts": target["attempts"],
                            "last_error": target.get("last_error"),
                            "platform_received_at": [
                                datetime.fromtimestamp(t, UTC).isoformat() for t in times
                            ],
                            "killed": [
                                {"at": k.get("at"), "point": k["point"], "pid": k["pid"]}
                                for k in killed.get(post["post_id"], [])
                            ],
                            "stale_claim_taken_over_at": took_over,
                        }
                    )
    targets = sum(verdicts.values())
    settled = ("published_once", "failed_with_reason")
    unconfirmed = ("unconfirmed_on_platform", "unconfirmed_not_on_platform")
    ok = sum(verdicts[v] for v in (*settled, *unconfirmed))
    duplicates = texts_twice + verdicts["published_twice"] + verdicts["unconfirmed_posted_twice"]
    return {
        "targets": targets,
        "verdicts": dict(verdicts),
        "failure_kinds": dict(reasons),
        "texts_posted_twice": texts_twice,
        "ledger_ok": ok == targets and duplicates == 0,
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
        "targets_of_posts_in_killed_batches": dict(in_killed),
        "stale_claims_taken_over": dict(taken_over),
        "examples": examples,
        "summary": {
            "targets": targets,
            "published_exactly_once": verdicts["published_once"],
            "failed_with_reason": verdicts["failed_with_reason"],
            "unconfirmed": sum(verdicts[v] for v in unconfirmed),
            "stuck": verdicts["stuck"],
            "duplicates": duplicates,
            "other": targets - ok - verdicts["stuck"],
        },
    }


def _refused_but_posted(
    refusals: list[dict[str, Any]], sandbox: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Creations the API answered with an error whose post reached a platform anyway: a client
    that retried one would have posted it twice."""
    by_text: dict[str, list[dict[str, Any]]] = {}
    for p in sandbox:
        by_text.setdefault(p["text"], []).append(p)
    return [
        {
            **refusal,
            "on_platform": [
                {
                    "platform": p["platform"],
                    "id": p["id"],
                    "received_at": datetime.fromtimestamp(p["created_at"], UTC).isoformat(),
                }
                for p in by_text[refusal["text"]]
            ],
        }
        for refusal in refusals
        if refusal["text"] in by_text
    ]


def _kills(worker: dict[str, Any]) -> dict[str, Any]:
    points = Counter(
        "after a platform accepted a post" if k["point"].startswith("after POST") else k["point"]
        for k in worker["kills"]
    )
    batches = worker["batches"]
    return {
        "kills": len(worker["kills"]),
        "batches": batches,
        "kill_share": round(len(worker["kills"]) / batches, 4) if batches else None,
        "by_point": dict(points),
        "restarts": len(worker["restarts"]),
        "restarts_after_sigkill": sum(1 for r in worker["restarts"] if r["died"] == "SIGKILL"),
        "records_in_killed_batches": sum(k["records"] for k in worker["kills"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--spread-seconds", type=float, default=180)
    # A killed batch comes back after the queue's visibility timeout (370 s), then its stale
    # claims are taken over; a retryable failure comes back after 10, 20, 40, 80 s.
    parser.add_argument("--deadline-seconds", type=float, default=1260)
    parser.add_argument("--redis-outage", type=float, default=30)
    parser.add_argument("--tick-seconds", type=float, default=5)
    parser.add_argument("--platform-timeout", type=float, default=3)
    parser.add_argument("--server-error-share", type=float, default=0.10)
    parser.add_argument("--timeout-share", type=float, default=0.01)
    parser.add_argument("--kill-rate", type=float, default=0.01, help="share of worker batches")
    parser.add_argument("--workers", type=int, default=2, help="worker processes at once")
    parser.add_argument("--poll-seconds", type=float, default=10)
    parser.add_argument("--creators", type=int, default=4, help="clients creating posts at once")
    # Unpaced, the due-at-once half fills the queue faster than one worker drains it, and moto's
    # SendMessage and ReceiveMessage cost grows with the queue's depth (it counts every message).
    parser.add_argument("--create-rate", type=float, default=0, help="posts a second; 0: unpaced")
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
    posts: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    refusals: list[dict[str, Any]] = []
    try:
        stack.start()
        api = f"http://127.0.0.1:{args.api_port}"
        sandbox = f"http://127.0.0.1:{args.sandbox_port}"
        made = _business(args, stack.table)
        headers = {"Authorization": f"Bearer {made['api_key']}"}
        services = Services(api, sandbox, "", {}, stack.table)
        with httpx.Client(base_url=api, timeout=60) as client:
            # Every post the sandbox is sent is kept: a second one of a text shows as twice.
            config = {"ig_quota_total": 1_000_000, "detect_duplicates": False}
            httpx.post(f"{sandbox}/_sandbox/config", json=config).raise_for_status()
            accounts: dict[str, str] = {}
            for provider in ("linkedin", "x", "meta"):
                _connect(httpx.Client(timeout=30), services, made["api_key"], provider)
            for account in client.get("/api/v1/accounts", headers=headers).json()["accounts"]:
                accounts.setdefault(account["platform"], account["account_id"])
            faults = Faults(sandbox, args.seed, args.server_error_share, args.timeout_share)
            faults.start()
            # Halfway through the time posts fall due.
            creating_for = args.posts / args.create_rate if args.create_rate else 0.0
            outage = threading.Timer(
                (creating_for + args.spread_seconds) / 2,
                _outage,
                (redis_server, args.redis_outage, report),
            )
            outage.daemon = True  # an interrupted run must not wait for it to fire
            outage.start()
            posts, creating, refused, refusals = _create_posts(
                client,
                headers,
                accounts,
                args,
                f"{sandbox}/_sandbox/images/soak.jpg",
                rng,
                run,
                faults,
            )
            report.update(
                {
                    "posts_created": len(posts),
                    "creation_refused": refused,
                    "creation_seconds": round(creating, 1),
                }
            )
            items = _settle(args, stack, client, headers, made["business_id"], posts, faults, began)
            faults.halt.set()
            outage.cancel()
            report["faults_injected"] = dict(faults.injected)
            report["targets_fallen_due"] = faults.targets_due
            seen = httpx.get(f"{sandbox}/_sandbox/posts", timeout=120).json()["posts"]
            report["sandbox_posts"] = len(seen)
    finally:
        stack.stop()
        redis_server.stop()
    # After the stop: the last worker process prints how many batches it ran as it exits.
    worker = worker_record(stack.log)
    report["worker"] = _kills(worker)
    if items:
        report["ledger"] = ledger(posts, items, seen, worker)
        report["refused_but_on_platform"] = _refused_but_posted(refusals, seen)
    report["seconds"] = round(time.monotonic() - began, 1)
    print(json.dumps(report, indent=2))
    created_all = report.get("posts_created") == args.posts
    # A client that gave up waiting cannot know whether its post was made; one the API answered
    # with an error must not have been.
    refused_posted = any(
        isinstance(r["answer"], int) for r in report.get("refused_but_on_platform", [])
    )
    ledger_ok = report.get("ledger", {}).get("ledger_ok")
    return 0 if created_all and ledger_ok and not refused_posted else 1


def _settle(
    args: argparse.Namespace,
    stack: Stack,
    client: httpx.Client,
    headers: dict[str, str],
    business: str,
    posts: list[dict[str, Any]],
    faults: Faults,
    began: float,
) -> list[dict[str, Any]]:
    """Waits until every post is out of pending, queued and publishing, or the deadline passes;
    returns the calendar as last read.

    Reading the calendar costs moto's server a query over the whole table per page of 100, so
    it is read only once the queue holds nothing (visible, in flight or delayed) and every post
    has fallen due; until then the queue's depth is the progress shown.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{args.moto_port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    deadline = began + args.deadline_seconds
    mine = {p["post_id"] for p in posts}
    read_at = -1e9
    while time.monotonic() < deadline:
        time.sleep(args.poll_seconds)
        progress: dict[str, Any] = {"elapsed": round(time.monotonic() - began)}
        try:
            progress["queue"] = depth = _queue_depth(sqs, stack.queue_url)
        except (BotoCoreError, ClientError):  # a slow answer under load is not the end of the run
            continue
        quiet = depth == 0 and time.time() > faults.last_due + args.tick_seconds
        if quiet and time.monotonic() - read_at >= 60:
            read_at = time.monotonic()
            try:
                items = _calendar(client, headers, business)
            except httpx.HTTPError:
                continue
            progress["open_posts"] = sum(
                1 for i in items if i["post_id"] in mine and i["status"] in OPEN
            )
            if not progress["open_posts"]:
                print(json.dumps(progress), file=sys.stderr, flush=True)
                return items
        print(json.dumps(progress), file=sys.stderr, flush=True)
    return _calendar(client, headers, business)


def _outage(redis_server: Redis, seconds: float, report: dict[str, Any]) -> None:
    redis_server.stop()
    report["redis_outage"] = {"seconds": seconds, "at": datetime.now(UTC).isoformat()}
    time.sleep(seconds)
    redis_server.start()


if __name__ == "__main__":
    raise SystemExit(main())
