"""The worker in its own process: SIGKILLed inside a batch, started again, and the batch it held
comes back from SQS to the new process, as after a Lambda crash."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from herald.local.worker_process import KILL_MARK, RESTART_MARK, WorkerProcess
from tests.integration.local.recording_handler import DELIVERIES

HANDLER = "tests.integration.local.recording_handler.handler"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    sqs = boto3.session.Session(region_name="us-east-1").client("sqs", endpoint_url=endpoint)
    # Seconds, not the template's 370 s: what a dead worker held comes back at once. Longer than
    # the template's batching window, as the template requires, or a message would come back
    # into the very batch the poller is still gathering.
    url = sqs.create_queue(QueueName="publish", Attributes={"VisibilityTimeout": "4"})["QueueUrl"]
    monkeypatch.setenv("PUBLISH_QUEUE_URL", url)
    try:
        yield sqs, url
    finally:
        server.stop()


def _deliveries(path: Path) -> list[tuple[str, str, int]]:
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text().splitlines()]
    return [(pid, message, int(receives)) for pid, message, receives in rows]


def test_a_killed_worker_is_started_again_and_gets_the_batch_it_held_back(
    queue: tuple[Any, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sqs, url = queue
    log = tmp_path / "deliveries"
    monkeypatch.setenv(DELIVERIES, str(log))
    message_id = sqs.send_message(QueueUrl=url, MessageBody='{"post_id": "p1"}')["MessageId"]
    # Every batch dies, so each delivery is to a process its predecessor's death started.
    worker = WorkerProcess(kill_rate=1.0, seed=3, handler=HANDLER, restart_pause=0.0)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(_deliveries(log)) < 2 or worker.restarts < 2:
            assert time.monotonic() < deadline, _deliveries(log)
            time.sleep(0.1)
    finally:
        worker.stop()
        worker.join(30)

    (first_pid, first, once), (second_pid, second, twice) = _deliveries(log)[:2]
    assert first == second == message_id
    assert (once, twice) == (1, 2)
    assert first_pid != second_pid
    assert not worker.is_alive()
    printed = capfd.readouterr().out.splitlines()
    kills = [line for line in printed if line.startswith(f"{KILL_MARK} ") and '"p1"' in line]
    restarts = [line for line in printed if line.startswith(f"{RESTART_MARK} ")]
    assert len(kills) >= 2
    assert restarts
    assert all('"died": "SIGKILL"' in line for line in restarts)
