"""Which batches the worker process kills itself in, and at which point."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx
import pytest

from herald.local.worker_process import KILL_MARK, KillingInvoker

HANDLER = "worker.handler"
EVENT = {"Records": [{"body": json.dumps({"business_id": "b1", "post_id": "p1"})}]}


class Draws(random.Random):
    """A generator that answers `random()` from a script."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


class Kills:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def invoker(draws: Draws, handler: Any, kills: Kills) -> KillingInvoker:
    return KillingInvoker(rate=0.01, rng=draws, handlers={HANDLER: handler}, kill=kills)


def invoke(target: KillingInvoker) -> tuple[bool, Any]:
    return target.invoke(HANDLER, EVENT, function_name="PublishWorker", timeout_seconds=60)


def answer(method: str, path: str, status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request(method, f"http://sandbox{path}"))


def kill_lines(out: str) -> list[dict[str, Any]]:
    prefix = f"{KILL_MARK} "
    return [json.loads(line.removeprefix(prefix)) for line in out.splitlines() if prefix in line]


def test_a_batch_outside_the_share_runs_untouched(capsys: pytest.CaptureFixture[str]) -> None:
    kills = Kills()

    assert invoke(invoker(Draws(0.5), lambda event, context: "done", kills)) == (True, "done")
    assert kills.count == 0
    assert kill_lines(capsys.readouterr().out) == []


def test_a_doomed_batch_dies_right_after_a_platform_accepts_a_post(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kills = Kills()

    def handler(event: Any, context: Any) -> str:
        for response in (
            answer("GET", "/2/users/me", 200),
            answer("POST", "/2/media/upload", 200),  # an upload is not yet a post
            answer("POST", "/2/tweets", 503),
        ):
            asyncio.run(target.on_response(response))
        assert kills.count == 0
        asyncio.run(target.on_response(answer("POST", "/2/tweets", 201)))
        return "recorded"

    target = invoker(Draws(0.0, 0.0), handler, kills)
    invoke(target)

    # Once, although the invocation's end would have killed it as well.
    assert kills.count == 1
    (line,) = kill_lines(capsys.readouterr().out)
    assert line["point"] == "after POST /2/tweets answered 201"
    assert line["post_ids"] == ["p1"]


def test_a_doomed_batch_with_nothing_accepted_dies_before_its_records_are_deleted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kills = Kills()

    invoke(invoker(Draws(0.0, 0.0), lambda event, context: "skipped", kills))

    assert kills.count == 1
    (line,) = kill_lines(capsys.readouterr().out)
    assert line["point"] == "after the handler returned, before the deletes"


def test_a_doomed_batch_can_die_at_a_random_moment_while_it_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kills = Kills()

    def handler(event: Any, context: Any) -> str:
        deadline = time.monotonic() + 5
        while not kills.count and time.monotonic() < deadline:
            time.sleep(0.01)
        return "late"

    # Doomed, not at an acceptance, and the moment drawn is the invocation's very start.
    invoke(invoker(Draws(0.0, 0.9, 0.0), handler, kills))

    assert kills.count == 1
    (line,) = kill_lines(capsys.readouterr().out)
    assert line["point"] == "at a random moment"
