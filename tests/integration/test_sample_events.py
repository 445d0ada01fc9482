"""The sample events shipped in events/ (for `sam local invoke`) drive the real handlers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from herald.container import Container
from tests.fakes.lambda_events import response_json

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def test_the_health_sample_is_answered_by_the_api_handler(
    container: Container, lambda_context: Any
) -> None:
    from functions.api import app as api_app

    response = api_app.handler(sample("api_health.json"), lambda_context)

    assert response["statusCode"] in (200, 503)
    assert set(response_json(response)["components"]) == {"redis", "dynamodb"}


def test_the_me_sample_with_its_placeholder_key_is_a_401_problem(
    container: Container, lambda_context: Any
) -> None:
    from functions.api import app as api_app

    response = api_app.handler(sample("api_me.json"), lambda_context)

    assert response["statusCode"] == 401
    assert response_json(response)["status"] == 401


def test_the_schedule_samples_are_exactly_what_the_rules_deliver() -> None:
    from herald.local.eventbridge import rules_from_template
    from herald.local.template import load_template

    rules = {r.name: r.event(0.0) for r in rules_from_template(load_template())}

    assert sample("schedule_dispatch.json") == rules["Dispatch"]
    assert sample("schedule_refresh_tokens.json") == rules["RefreshTokens"]
    assert sample("schedule_sync_metrics.json") == rules["SyncMetrics"]


def test_the_sqs_sample_carries_the_message_the_tick_sends() -> None:
    (record,) = sample("sqs_publish_batch.json")["Records"]

    assert set(json.loads(record["body"])) == {"business_id", "post_id", "scheduled_for"}
    assert record["eventSource"] == "aws:sqs"
