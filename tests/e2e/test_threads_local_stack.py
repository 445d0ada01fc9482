"""Threads through `make dev` as a user runs it: the stack with its sandbox on free ports, Threads
connected over real HTTP (authorize, the sandbox's window, the callback, the confirmation), then
a scheduled carousel-and-reply chain that the tick, SQS and the worker publish at its second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_local_stack import free_port
from tests.fakes.stack_process import launch

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, str]]:
    api_port, moto_port, sandbox_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        "HERALD_TICK_SECONDS": "1",
    }
    for name in ("AWS_ENDPOINT_URL", "FRONTEND_URL", "PUBLIC_API_URL"):
        env.pop(name, None)
    process, output, drain = launch(
        [
            sys.executable,
            "-m",
            "herald.local.stack",
            "--port",
            str(api_port),
            "--moto-port",
            str(moto_port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        env,
        ready_within=60,
    )
    yield {
        "api": f"http://127.0.0.1:{api_port}",
        "key": next(line for line in output if "demo API key" in line).split()[-1],
        "sandbox": f"http://127.0.0.1:{sandbox_port}",
    }
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    drain.join(5)
    assert process.stdout is not None
    process.stdout.close()


def connect_threads(http: httpx.Client, sandbox: str) -> str:
    started = http.get("/api/v1/oauth/threads/authorize").json()
    url = started["authorization_url"]
    assert url.startswith(f"{sandbox}/threads/oauth/authorize?")
    at_threads = httpx.get(url)  # the person approves in Threads' window
    assert at_threads.status_code == 302, at_threads.text
    # The browser comes back to the callback, without the key: the accounts are held.
    back = httpx.get(at_threads.headers["location"])
    assert back.status_code == 302, back.text
    confirmation = parse_qs(urlsplit(back.headers["location"]).query)["confirm"][0]
    confirmed = http.post("/api/v1/oauth/threads/confirm", json={"confirmation": confirmation})
    assert confirmed.status_code == 200, confirmed.text
    [account] = confirmed.json()["connected"]
    assert account["platform"] == "threads"
    return str(account["account_id"])


def test_a_scheduled_carousel_and_its_reply_reach_threads_at_their_second(
    stack: dict[str, str],
) -> None:
    headers = {"Authorization": f"Bearer {stack['key']}"}
    with httpx.Client(base_url=stack["api"], headers=headers, timeout=10) as http:
        account_id = connect_threads(http, stack["sandbox"])
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
        scheduled = http.post(
            "/api/v1/schedule",
            json={
                "account_ids": [account_id],
                "thread": ["This morning's bake 🍞", "Back at 7 tomorrow"],
                "media": [
                    {"url": f"{stack['sandbox']}/_sandbox/images/loaf.png"},
                    {"url": "https://cdn.bakery.example/oven.mp4", "kind": "video"},
                ],
                "scheduled_for": at.isoformat(),
            },
        )
        assert scheduled.status_code == 201, scheduled.text
        post_id = scheduled.json()["post_id"]

        post: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            post = http.get(f"/api/v1/posts/{post_id}").json()
            if post["status"] not in ("pending", "queued", "publishing"):
                break
            time.sleep(0.5)

        assert post["status"] == "published", post
        [target] = post["targets"]
        root, reply = target["part_ids"]
        late = (datetime.fromisoformat(target["published_at"]) - at).total_seconds()
        assert -0.1 <= late < 3.0, late
        limit = http.get(f"/api/v1/accounts/{account_id}/publishing-limit").json()

    published = httpx.get(f"{stack['sandbox']}/_sandbox/posts", params={"platform": "threads"})
    out = {p["id"]: p for p in published.json()["posts"]}
    assert out[root]["media_type"] == "CAROUSEL"
    assert [list(c) for c in out[root]["children"]] == [["image_url"], ["video_url"]]
    assert out[root]["text"] == "This morning's bake 🍞"
    assert out[reply]["reply_to"] == root
    assert len(out) == 2  # once each
    assert limit["posts"]["used"] == 1
    assert limit["replies"]["used"] == 1


def test_a_threads_posts_metrics_are_read_from_its_insights_through_the_sandbox(
    stack: dict[str, str],
) -> None:
    headers = {"Authorization": f"Bearer {stack['key']}"}
    with httpx.Client(base_url=stack["api"], headers=headers, timeout=10) as http:
        account_id = connect_threads(http, stack["sandbox"])
        published = http.post(
            "/api/v1/publish/threads", json={"account_ids": [account_id], "text": "Rye at noon"}
        )
        assert published.status_code == 200, published.text
        post_id = published.json()["post_id"]
        # A day of engagement for each second of sandbox time.
        httpx.post(f"{stack['sandbox']}/_sandbox/metrics/config", json={"speed": 86400})
        time.sleep(1)

        synced = http.post(f"/api/v1/analytics/posts/{post_id}/sync")
        assert synced.status_code == 200, synced.text
        summary = http.get("/api/v1/analytics/summary", params={"window": "24h"}).json()

    [target] = synced.json()["targets"]
    assert target["platform"] == "threads"
    assert target["metrics"]["impressions"] > 0
    assert target["metrics"]["reactions"] >= 0
    assert target["metrics"]["reach"] is None  # Threads gives none: missing, never zero
    assert "no reach" in target["unavailable"]["reach"]
    threads = next(p for p in summary["engagement"]["platforms"] if p["platform"] == "threads")
    assert threads["impressions"] >= target["metrics"]["impressions"]
