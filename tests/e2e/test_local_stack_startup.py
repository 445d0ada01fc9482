"""`make dev` when something is in its way: a busy port is named and the stack exits at once; a
signal during start-up stops what was started and exits. Each runs the stack's entry point as
`make dev` does (`python -m herald.local.stack`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_local_stack import ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

# "Within seconds": the port check comes before any heavy import.
EXIT_WITHIN = 15


def stack_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "herald.local.stack", *args]


def stack_env(redis_url: str = REDIS_URL) -> dict[str, str]:
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    return env


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program listens on (and never answers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def can_listen(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.parametrize(
    ("option", "what"),
    [("--port", "the API"), ("--moto-port", "moto"), ("--sandbox-port", "the platform sandbox")],
)
def test_a_busy_port_is_named_with_the_option_that_moves_it_and_the_stack_exits(
    held_port: int, option: str, what: str
) -> None:
    ports = {"--port": free_port(), "--moto-port": free_port(), "--sandbox-port": free_port()}
    ports[option] = held_port
    args = [str(part) for pair in ports.items() for part in pair]

    started = time.monotonic()
    run = subprocess.run(
        stack_command(*args),
        cwd=ROOT,
        env=stack_env(),
        capture_output=True,
        text=True,
        timeout=EXIT_WITHIN,
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert f"port {held_port} ({what}) is in use by another program" in run.stderr
    assert f"pick another port with {option}" in run.stderr
    assert "ready" not in run.stdout
    assert time.monotonic() - started < EXIT_WITHIN


def test_two_pieces_given_the_same_port_are_refused_before_anything_starts() -> None:
    port = free_port()

    run = subprocess.run(
        stack_command("--port", str(port), "--moto-port", str(port), "--no-sandbox"),
        cwd=ROOT,
        env=stack_env(),
        capture_output=True,
        text=True,
        timeout=EXIT_WITHIN,
    )

    assert run.returncode == 1
    assert f"are both given port {port}" in run.stderr


def test_a_redis_port_held_by_something_that_is_not_redis_is_named(held_port: int) -> None:
    # The ping used to wait for an answer without end; the stack then hung before its banner.
    run = subprocess.run(
        stack_command("--port", str(free_port()), "--moto-port", str(free_port()), "--no-sandbox"),
        cwd=ROOT,
        env=stack_env(f"redis://127.0.0.1:{held_port}/0"),
        capture_output=True,
        text=True,
        timeout=45,
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        f"port {held_port} is in use by another program, and no Redis answers there" in run.stderr
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_start_up_stops_what_was_started_and_exits(signum: int) -> None:
    api, moto, sandbox, redis_port = free_port(), free_port(), free_port(), free_port()
    process = subprocess.Popen(
        stack_command("--port", str(api), "--moto-port", str(moto), "--sandbox-port", str(sandbox)),
        cwd=ROOT,
        # A Redis the stack starts itself, so there is a child to stop.
        env=stack_env(f"redis://127.0.0.1:{redis_port}/0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    try:
        for line in process.stdout:
            output.append(line)
            # Moto and Redis are up by now; the API, the sandbox and the rest are not.
            if "starting the API" in line:
                process.send_signal(signum)
                break
        sent = time.monotonic()
        output.extend(process.stdout)
        returncode = process.wait(timeout=EXIT_WITHIN)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()

    text = "".join(output)
    assert "starting the API" in text, text
    assert returncode == 128 + signum, text
    assert time.monotonic() - sent < EXIT_WITHIN
    assert f"stopping ({signal.Signals(signum).name})" in text
    assert "ready" not in text.split()
    assert output[-1].strip() == "stopped"
    # Nothing it started is left listening, its own Redis included.
    assert all(can_listen(port) for port in (api, moto, sandbox, redis_port)), text


def test_with_sqs_process_the_queue_is_served_by_a_moto_of_its_own_and_stopped_with_the_stack() -> (
    None
):
    api, moto, sqs_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        stack_command(
            *("--port", str(api), "--moto-port", str(moto), "--sqs-port", str(sqs_port)),
            *("--sqs-process", "--no-sandbox", "--no-demo"),
        ),
        cwd=ROOT,
        env=stack_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    try:
        for line in process.stdout:
            output.append(line)
            if line.strip() == "ready":
                break
        text = "".join(output)
        assert f"moto (SQS)      http://127.0.0.1:{sqs_port}" in text, text
        [poller] = [line for line in output if "SQS poller" in line]
        assert f"127.0.0.1:{sqs_port}/" in poller  # the publish queue lives there
        process.send_signal(signal.SIGINT)
        output.extend(process.stdout)
        assert process.wait(timeout=EXIT_WITHIN + 10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert all(can_listen(port) for port in (api, moto, sqs_port)), "".join(output)
