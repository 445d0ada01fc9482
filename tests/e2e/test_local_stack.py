"""`make dev` as a user runs it: start the stack, wait for health, make a business, call the API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.fakes.stack_process import launch

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningStack:
    api_url: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    output: list[str]
    drain: threading.Thread


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    api_port, moto_port = free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "HERALD_TICK_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process, output, drain = launch(
        [
            sys.executable,
            "-m",
            "herald.local.stack",
            "--port",
            str(api_port),
            "--moto-port",
            str(moto_port),
            "--no-sandbox",
        ],
        env,
        ready_within=45,
    )
    stack_env = {
        **env,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "TABLE_NAME": "herald-table",
        "HERALD_ENV": "development",
    }
    yield RunningStack(f"http://127.0.0.1:{api_port}", stack_env, process, output, drain)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    drain.join(5)
    if process.stdout is not None:
        process.stdout.close()


def test_health_answers_200_with_redis_and_dynamodb_up(stack: RunningStack) -> None:
    deadline = time.monotonic() + 15
    status, body = get(stack.api_url + "/health")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.25)
        status, body = get(stack.api_url + "/health")
    assert status == 200, body
    assert body["components"]["redis"]["status"] == "up"
    assert body["components"]["dynamodb"]["status"] == "up"


def test_a_business_made_with_the_admin_command_authenticates_with_its_key(
    stack: RunningStack,
) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "herald", "admin", "create-business", "--name", "E2E Bakery"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    created = json.loads(made.stdout)

    status, body = get(
        stack.api_url + "/api/v1/me", {"Authorization": f"Bearer {created['api_key']}"}
    )

    assert status == 200, body
    assert body["business_id"] == created["business_id"]
    assert body["name"] == "E2E Bakery"


def test_the_printed_demo_key_is_ready_to_paste(stack: RunningStack) -> None:
    line = next(line for line in stack.output if "demo API key" in line)
    key = line.split()[-1]

    status, body = get(stack.api_url + "/api/v1/me", {"Authorization": f"Bearer {key}"})

    assert status == 200, body
    assert body["name"] == "Demo Business"


def test_the_banner_shows_the_generous_local_rate_limits(stack: RunningStack) -> None:
    line = next(line for line in stack.output if "rate limits" in line)

    assert "publish 1000/hour, OAuth 60/minute" in line


def test_a_wrong_key_is_a_401_problem(stack: RunningStack) -> None:
    status, body = get(stack.api_url + "/api/v1/me", {"Authorization": "Bearer hrld_" + "x" * 43})

    assert status == 401
    assert body["status"] == 401


def test_ctrl_c_stops_every_piece(stack: RunningStack) -> None:
    # Runs last in this module: the stack must exit on its own after SIGINT.
    stack.process.send_signal(signal.SIGINT)
    returncode = stack.process.wait(timeout=20)
    stack.drain.join(5)

    assert returncode == 0, "".join(stack.output)
    assert stack.output[-1].strip() == "stopped"
    status = None
    try:
        status, _ = get(stack.api_url + "/health")
    except urllib.error.URLError:
        status = None
    assert status is None
