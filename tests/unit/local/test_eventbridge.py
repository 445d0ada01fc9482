"""The EventBridge stand-in fires the template's rules as EventBridge would."""

from __future__ import annotations

from typing import Any

from herald.local.eventbridge import HANDLER, EventBridge, Rule, parse_rate, rules_from_template
from herald.local.lambda_runtime import Invoker
from herald.local.template import load_template


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.contexts: list[Any] = []

    def __call__(self, event: Any, context: Any) -> None:
        self.events.append(event)
        self.contexts.append(context)


def test_rules_come_from_the_tick_functions_schedule_events() -> None:
    rules = {r.name: r for r in rules_from_template(load_template())}

    assert rules["Dispatch"] == Rule("Dispatch", 60, {"task": "dispatch", "part": 0, "parts": 8})
    assert rules["Dispatch7"] == Rule("Dispatch7", 60, {"task": "dispatch", "part": 7, "parts": 8})
    assert rules["RefreshTokens"] == Rule("RefreshTokens", 3600, {"task": "refresh_tokens"})
    assert rules["SyncMetrics"] == Rule("SyncMetrics", 3600, {"task": "sync_metrics"})


def test_a_shorter_tick_shrinks_every_rule_in_proportion() -> None:
    rules = {r.name: r for r in rules_from_template(load_template(), tick_seconds=2)}

    assert rules["Dispatch"].period_seconds == 2
    assert rules["RefreshTokens"].period_seconds == 120


def test_a_rule_with_constant_input_delivers_exactly_that_input() -> None:
    rule = Rule("Dispatch", 60, {"task": "dispatch"})

    assert rule.event(1_800_000_000.0) == {"task": "dispatch"}


def test_a_rule_without_input_delivers_the_scheduled_event_envelope() -> None:
    event = Rule("Plain", 60, None).event(1_800_000_060.0, region="eu-west-1")

    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2027-01-15T08:01:00Z"
    assert event["region"] == "eu-west-1"
    assert event["detail"] == {}


def test_rate_expressions_parse_to_seconds() -> None:
    assert parse_rate("rate(1 minute)") == 60
    assert parse_rate("rate(5 minutes)") == 300
    assert parse_rate("rate(1 hour)") == 3600


def test_the_minute_rule_fires_at_the_next_minute_boundary() -> None:
    bridge = EventBridge(rules_from_template(load_template()), Invoker(), timeout_seconds=60)

    at, due = bridge.next_fire(3600 * 5 + 59.5)

    assert at == 3600 * 5 + 60
    assert [r.name for r in due] == ["Dispatch", *(f"Dispatch{k}" for k in range(1, 8))]


def test_at_the_hour_every_rule_fires() -> None:
    bridge = EventBridge(rules_from_template(load_template()), Invoker(), timeout_seconds=60)

    at, due = bridge.next_fire(3600 * 5 - 0.5)

    assert at == 3600 * 5
    assert {r.name for r in due} >= {"Dispatch", "Dispatch7", "RefreshTokens", "SyncMetrics"}


def test_firing_invokes_the_tick_handler_with_the_input_and_a_lambda_context() -> None:
    recorder = Recorder()
    bridge = EventBridge(
        [Rule("Dispatch", 60, {"task": "dispatch"})],
        Invoker(handlers={HANDLER: recorder}),
        timeout_seconds=60,
    )

    bridge.fire(bridge.rules[0], 120.0)

    assert recorder.events == [{"task": "dispatch"}]
    assert recorder.contexts[0].function_name == "SchedulerTickFunction"
    assert 0 < recorder.contexts[0].get_remaining_time_in_millis() <= 60_000


def test_a_missing_handler_is_reported_and_the_bridge_keeps_going() -> None:
    invoker = Invoker()

    ok, result = invoker.invoke(
        "herald.no_such_module.handler", {}, function_name="X", timeout_seconds=1
    )

    assert (ok, result) == (False, None)


def test_a_handler_that_raises_does_not_stop_the_bridge() -> None:
    def broken(event: Any, context: Any) -> None:
        raise RuntimeError("boom")

    invoker = Invoker(handlers={HANDLER: broken})

    ok, _ = invoker.invoke(HANDLER, {}, function_name="X", timeout_seconds=1)

    assert ok is False
