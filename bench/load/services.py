"""The processes a load test runs against, each its own process so the API has the machine's cores
to itself as far as a 2-core machine allows: moto server (DynamoDB, SQS, SNS), the platform
sandbox on uvicorn, and the API on uvicorn, with the real Redis. Loopback addresses only.

Resources come from template.yaml (herald.local.template), the environment is the one
template.yaml's Globals give the functions in AWS, pointed at these processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    api: int = 18000
    moto: int = 15000
    sandbox: int = 18700


@dataclass
class Services:
    api_url: str
    sandbox_url: str
    moto_url: str
    env: dict[str, str]
    table_name: str


def _wait(url: str, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url}")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def base_env(redis_url: str, ports: Ports) -> dict[str, str]:
    from cryptography.fernet import Fernet

    from herald.local.sandbox import platform_env

    api = f"http://{HOST}:{ports.api}"
    return {
        **os.environ,
        "HERALD_ENV": "development",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{HOST}:{ports.moto}",
        "REDIS_URL": redis_url,
        "REDIS_CONNECT_TIMEOUT": "0.5",
        "REDIS_SOCKET_TIMEOUT": "0.5",
        "PUBLIC_API_URL": api,
        "FRONTEND_URL": f"{api}/app",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "POWERTOOLS_SERVICE_NAME": "herald",
        "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": f"{ROOT / 'layers' / 'herald'}{os.pathsep}{ROOT}",
        **platform_env(f"http://{HOST}:{ports.sandbox}"),
    }


@contextmanager
def running(
    redis_url: str,
    logs: Path,
    *,
    ports: Ports = Ports(),
    api_workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Services]:
    import boto3

    from herald.local.template import create_resources

    logs.mkdir(parents=True, exist_ok=True)
    env = base_env(redis_url, ports)
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(
            _spawn(
                [str(VENV_BIN / "moto_server"), "-H", HOST, "-p", str(ports.moto)],
                env,
                logs / "moto.log",
            )
        )
        _wait(f"http://{HOST}:{ports.moto}/moto-api/", "moto")
        session = boto3.session.Session(
            region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
        )
        resources = _create(session, env["AWS_ENDPOINT_URL"], create_resources)
        env.update(
            {
                "TABLE_NAME": resources.table_name,
                "PUBLISH_QUEUE_URL": resources.queue_url,
                "PUBLISH_DLQ_URL": resources.dlq_url,
                "EVENTS_TOPIC_ARN": resources.topic_arn,
                **(extra_env or {}),
            }
        )
        uvicorn = [str(VENV_BIN / "python"), "-m", "uvicorn", "--factory", "--host", HOST]
        # Keep-alive past the default 5 s: the burst opens its connections first and releases
        # every request together, and API Gateway keeps its own connections open far longer.
        quiet = ["--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "75"]
        children.append(
            _spawn(
                [
                    *uvicorn,
                    "--port",
                    str(ports.sandbox),
                    *quiet,
                    "herald.local.sandbox.app:create_app",
                ],
                env,
                logs / "sandbox.log",
            )
        )
        children.append(
            _spawn(
                [
                    *uvicorn,
                    "--port",
                    str(ports.api),
                    "--workers",
                    str(api_workers),
                    *quiet,
                    "--backlog",
                    "4096",
                    "herald.api.app:create_app",
                ],
                env,
                logs / "api.log",
            )
        )
        _wait(f"http://{HOST}:{ports.sandbox}/", "sandbox")
        _wait(f"http://{HOST}:{ports.api}/health", "API")
        yield Services(
            api_url=f"http://{HOST}:{ports.api}",
            sandbox_url=f"http://{HOST}:{ports.sandbox}",
            moto_url=env["AWS_ENDPOINT_URL"],
            env=env,
            table_name=resources.table_name,
        )
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


def _create(session: Any, endpoint: str, create_resources: Any) -> Any:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        return create_resources(session)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
