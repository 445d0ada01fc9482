"""The publish worker in a process of its own, as one Lambda execution environment is: the SQS
poller and the publish-worker handler, and nothing else, so it can die without the rest of the
local stack.

    python -m herald.local.worker_process [--kill-rate 0.01] [--seed N] [--handler DOTTED]

It reads the environment the local stack configured (queue URL, endpoint, table, Redis).

With --kill-rate, that share of invocations (batches) ends in SIGKILL: half at a random moment of
the invocation, half right after a platform accepted a post (its answer is in, the result is not
written: the window no conditional write closes). A doomed invocation that returns first dies
before its records are deleted. Just before dying the process prints one line,
`worker-kill {json}`: the batch it held and where it died.

`WorkerProcess` runs it for the stack and starts another whenever it dies, as Lambda starts a new
execution environment; what the dead one held comes back after the queue's visibility timeout.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from statistics import fmean
from types import FrameType
from typing import Any

import httpx

from herald.local import sqs_poller
from herald.local.lambda_runtime import Handler, Invoker, close_handlers_container

KILL_MARK = "worker-kill"
RESTART_MARK = "worker-restart"
EXIT_MARK = "worker-exit"
# The calls whose 2xx answer means the platform now holds a new post: LinkedIn, X, a Page's text
# or photo post, Instagram's publish step.
ACCEPTING_PATHS = ("/rest/posts", "/2/tweets", "/feed", "/photos", "/media_publish")


def sigkill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _post_ids(event: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for record in event.get("Records", []):
        try:
            body = json.loads(record.get("body", ""))
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("post_id"), str):
            ids.append(body["post_id"])
    return ids


class KillingInvoker(Invoker):
    """Invokes as `Invoker` does, and kills its own process inside a share of the invocations."""

    def __init__(
        self,
        *,
        rate: float,
        rng: random.Random,
        region: str = "us-east-1",
        handlers: dict[str, Handler] | None = None,
        kill: Callable[[], None] = sigkill_self,
    ) -> None:
        super().__init__(region=region, handlers=handlers)
        self.rate = rate
        self.rng = rng
        self.kill = kill
        self.invocations = 0
        # A random moment is drawn from the length of the recent invocations.
        self.durations: deque[float] = deque([1.0], maxlen=50)
        self._doomed: dict[str, Any] | None = None
        self._at_acceptance = False
        self._started = 0.0
        self._dying = threading.Lock()

    def watch(self, client: httpx.AsyncClient) -> None:
        """Sees the platforms' answers, to die right after one accepts a post."""
        client.event_hooks["response"].append(self.on_response)

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        if not self._at_acceptance or request.method != "POST" or not response.is_success:
            return
        if request.url.path.endswith(ACCEPTING_PATHS):
            self.die(f"after POST {request.url.path} answered {response.status_code}")

    def invoke(
        self, dotted: str, event: Any, *, function_name: str, timeout_seconds: float
    ) -> tuple[bool, Any]:
        self.invocations += 1
        timer: threading.Timer | None = None
        self._started = time.monotonic()
        if self.rng.random() < self.rate:
            self._doomed = {
                "invocation": self.invocations,
                "pid": os.getpid(),
                "records": len(event.get("Records", [])),
                "post_ids": _post_ids(event),
            }
            self._at_acceptance = self.rng.random() < 0.5
            if not self._at_acceptance:
                delay = self.rng.uniform(0.0, fmean(self.durations))
                timer = threading.Timer(delay, self.die, ("at a random moment",))
                timer.daemon = True
                timer.start()
        try:
            return super().invoke(
                dotted, event, function_name=function_name, timeout_seconds=timeout_seconds
            )
        finally:
            self.durations.append(time.monotonic() - self._started)
            if timer is not None:
                timer.cancel()
            self.die("after the handler returned, before the deletes")

    def die(self, point: str) -> None:
        # The timer, the response hook and the invocation's end may race: one kill, one line.
        with self._dying:
            doomed, self._doomed, self._at_acceptance = self._doomed, None, False
            if doomed is None:
                return
            doomed.update(
                point=point,
                after_seconds=round(time.monotonic() - self._started, 3),
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            )
            print(f"{KILL_MARK} {json.dumps(doomed)}", flush=True)
            self.kill()


def _exit_with_parent() -> None:
    """A stack that died without stopping its worker must not leave it taking messages."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def warm(invoker: Invoker, handler: str) -> None:
    """Start as an execution environment that has run before: the handler imported and, for the
    publish worker, its container's clients made, so the first batch of a burst does not pay
    the cold start (bench/bench_cold_start.py measures that apart). In AWS the mapping's
    environments stay warm while posts keep coming; provisioned concurrency keeps them so."""
    if invoker.handler(handler) is None or handler != sqs_poller.HANDLER:
        return
    from herald.container import get_container

    for module in ("herald.publishing", "herald.tokens"):  # else on a record's first publish
        importlib.import_module(module)

    container = get_container()
    for made_once in ("table", "sqs", "sns", "posts", "accounts", "publishers"):
        getattr(container, made_once)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m herald.local.worker_process", description=__doc__
    )
    parser.add_argument("--kill-rate", type=float, default=0.0, help="share of batches to SIGKILL")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--handler", default=sqs_poller.HANDLER)
    parser.add_argument("--wait-seconds", type=int, default=2, help="ReceiveMessage long poll")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # The stack's log is shared with it: whole lines, and none lost in a buffer at a kill.
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import boto3

    from herald.local.eventbridge import function_timeout
    from herald.local.template import load_template

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    invoker: Invoker
    if args.kill_rate > 0:
        # Which batches die is a test's choice, not a secret.
        rng = random.Random(args.seed)  # noqa: S311
        invoker = KillingInvoker(rate=args.kill_rate, rng=rng, region=region)
        if args.handler == sqs_poller.HANDLER:
            from herald.container import get_container

            invoker.watch(get_container().http)
    else:
        invoker = Invoker(region=region)
    template = load_template()
    poller = sqs_poller.SqsPoller(
        boto3.session.Session(region_name=region).client("sqs"),
        os.environ["PUBLISH_QUEUE_URL"],
        invoker,
        timeout_seconds=function_timeout(template, sqs_poller.FUNCTION),
        mapping=sqs_poller.Mapping.from_template(template),
        wait_seconds=args.wait_seconds,
        handler=args.handler,
    )

    def on_signal(signum: int, _: FrameType | None) -> None:
        poller.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _exit_with_parent()
    warm(invoker, args.handler)
    # The loop ends after the invocation in flight, so a stop never cuts a batch in half.
    poller.run()
    if args.handler == sqs_poller.HANDLER:
        close_handlers_container()
    invocations = invoker.invocations if isinstance(invoker, KillingInvoker) else None
    print(f"{EXIT_MARK} {json.dumps({'invocations': invocations})}", flush=True)
    return 0


class WorkerProcess(threading.Thread):
    """Runs the worker process and starts another whenever it dies.

    A clean exit is the answer to a stop (SIGTERM, or the Ctrl-C the whole terminal group gets),
    so only a death brings a new one. The environment and stdout are this process's.
    """

    def __init__(
        self,
        *,
        kill_rate: float = 0.0,
        seed: int | None = None,
        handler: str = sqs_poller.HANDLER,
        restart_pause: float = 0.2,
    ) -> None:
        super().__init__(name="worker-process", daemon=True)
        self.kill_rate = kill_rate
        self.seed = seed
        self.handler = handler
        self.restart_pause = restart_pause
        self.restarts = 0
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def command(self, generation: int) -> list[str]:
        command = [sys.executable, "-m", "herald.local.worker_process", "--handler", self.handler]
        if self.kill_rate:
            command += ["--kill-rate", str(self.kill_rate)]
        if self.seed is not None:
            # Each new process draws its own batches to kill, not its predecessor's again.
            command += ["--seed", str(self.seed + generation)]
        return command

    def run(self) -> None:
        generation = 0
        while True:
            with self._lock:
                if self.stopping.is_set():
                    return
                child = self.child = subprocess.Popen(self.command(generation))  # noqa: S603
            code = child.wait()
            if code == 0 or self.stopping.is_set():
                return
            generation += 1
            self.restarts += 1
            died = signal.Signals(-code).name if code < 0 else f"exit status {code}"
            line = json.dumps({"pid": child.pid, "died": died, "restarts": self.restarts})
            print(f"{RESTART_MARK} {line}", flush=True)
            # Lambda starts a new environment at once; the pause only stops a crash loop spinning.
            if self.stopping.wait(self.restart_pause):
                return

    def stop(self) -> None:
        with self._lock:
            self.stopping.set()
            child = self.child
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
