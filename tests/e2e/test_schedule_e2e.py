"""Scheduling end to end with the real clock: the API schedules, the local stack's EventBridge
stand-in fires the tick from template.yaml's rules, SQS (moto) holds each message for its
DelaySeconds, the local stack's SQS poller hands real batches to the worker, and the platform
sandbox receives the posts over HTTP. Each post must arrive once, within 2 s of its second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from herald import aio
from herald import container as composition
from herald.clock import isoformat, parse_iso
from herald.container import Container
from herald.local import eventbridge, sqs_poller
from herald.local.lambda_runtime import Invoker
from herald.local.sandbox.app import create_app as create_sandbox
from herald.local.sandbox.state import SandboxState
from herald.local.template import LocalResources, load_template
from herald.posts import PostStatus
from tests.fakes.lambda_events import http_event, response_json
from tests.fakes.oauth import connect, sandbox_client, sandbox_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

TICK_SECONDS = 2.0  # the one-minute rule, shortened; the look-ahead stays 180 s


@dataclass
class Stack:
    container: Container
    invoker: Invoker
    sandbox: SandboxState
    business: dict[str, Any]
    account_id: str

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.business['api_key']}"}
        ok, response = self.invoker.invoke(
            "functions.api.app.handler",
            http_event(method, path, headers=headers, body=body),
            function_name="ApiFunction",
            timeout_seconds=29,
        )
        assert ok
        return response["statusCode"], response_json(response)


@pytest.fixture
def stack(resources: LocalResources, aws: Any, redis_sync: redis.Redis) -> Iterator[Stack]:
    from herald.admin.commands import create_business

    settings = sandbox_settings(
        resources,
        PUBLISH_QUEUE_URL=resources.queue_url,
        PUBLISH_DLQ_URL=resources.dlq_url,
        # Every post goes through the tick here (the API would queue one due within 65 s).
        dispatch_on_create_seconds=0,
    )
    sandbox = SandboxState.for_settings(settings)
    app = create_sandbox(state=sandbox)
    container = Container(settings, boto_session=aws, http=sandbox_client(app))
    composition.set_container(container)
    business = create_business(container, "Acme Bakery")
    (account,) = connect(container, app, business["business_id"], "linkedin")

    template = load_template()
    invoker = Invoker()
    bridge = eventbridge.EventBridge(
        eventbridge.rules_from_template(template, tick_seconds=TICK_SECONDS),
        invoker,
        timeout_seconds=eventbridge.function_timeout(template, eventbridge.FUNCTION),
    )
    poller = sqs_poller.SqsPoller(
        container.sqs,
        resources.queue_url,
        invoker,
        timeout_seconds=eventbridge.function_timeout(template, sqs_poller.FUNCTION),
        wait_seconds=1,
    )
    bridge.start()
    poller.start()
    try:
        yield Stack(container, invoker, sandbox, business, account.account_id)
    finally:
        bridge.stop()
        poller.stop()
        bridge.join(10)
        poller.join(10)
        composition.set_container(None)
        aio.run(container.aclose())


def _wait_for(predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_scheduled_posts_are_published_once_each_at_their_second(stack: Stack) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
    scheduled: dict[str, datetime] = {}
    for i in range(6):
        at = start + timedelta(seconds=i * 1.5)
        status, body = stack.api(
            "POST",
            "/api/v1/schedule",
            {
                "account_ids": [stack.account_id],
                "text": f"Batch {i} is out of the oven",
                "scheduled_for": isoformat(at),
            },
        )
        assert status == 201, body
        assert body["status"] == "pending"  # the tick, not the API, queues it here
        scheduled[body["post_id"]] = at

    biz = stack.business["business_id"]

    def all_out() -> bool:
        return all(
            stack.container.posts.get(biz, p).status == PostStatus.PUBLISHED for p in scheduled
        )

    _wait_for(all_out, 40)
    texts = sorted(p["text"] for p in stack.sandbox.posts.values())
    assert texts == sorted(f"Batch {i} is out of the oven" for i in range(6))  # once each
    for post_id, at in scheduled.items():
        post = stack.container.posts.get(biz, post_id)
        (target,) = post.targets.values()
        assert target.published_at is not None
        late = (parse_iso(target.published_at) - at).total_seconds()
        assert -0.1 <= late < 2.0, (post_id, late)


def test_a_post_cancelled_before_its_time_never_reaches_the_platform(stack: Stack) -> None:
    at = datetime.now(UTC) + timedelta(seconds=8)
    keep = stack.api(
        "POST",
        "/api/v1/schedule",
        {"account_ids": [stack.account_id], "text": "kept", "scheduled_for": isoformat(at)},
    )[1]
    drop = stack.api(
        "POST",
        "/api/v1/schedule",
        {"account_ids": [stack.account_id], "text": "dropped", "scheduled_for": isoformat(at)},
    )[1]
    assert stack.api("DELETE", f"/api/v1/schedule/{drop['post_id']}")[0] == 200
    biz = stack.business["business_id"]
    _wait_for(
        lambda: stack.container.posts.get(biz, keep["post_id"]).status == PostStatus.PUBLISHED, 30
    )
    time.sleep(1)
    assert [p["text"] for p in stack.sandbox.posts.values()] == ["kept"]
    assert stack.container.posts.get(biz, drop["post_id"]).status == PostStatus.CANCELLED
