"""An EventBridge stand-in: the scheduler-tick function's Schedule rules, read from template.yaml.

Each `rate(...)` rule fires at every boundary of its period (every minute boundary for the
dispatch rule). What the function receives is what EventBridge sends: a rule with a constant
`Input` delivers exactly that JSON (it replaces the event); a rule without one delivers the
"Scheduled Event" envelope. `HERALD_TICK_SECONDS` shortens the one-minute period for tests, and
every other rule shrinks in proportion.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from herald.local.lambda_runtime import Invoker

log = logging.getLogger("herald.local")

HANDLER = "functions.scheduler_tick.app.handler"
FUNCTION = "SchedulerTickFunction"
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_RATE = re.compile(r"^rate\((\d+)\s+(\w+)\)$")


@dataclass(frozen=True)
class Rule:
    name: str
    period_seconds: float
    input: Any | None  # the rule's constant Input, already parsed; None for the envelope

    def event(self, at: float, *, region: str = "us-east-1") -> Any:
        if self.input is not None:
            return json.loads(json.dumps(self.input))
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [f"arn:aws:events:{region}:123456789012:rule/herald-{self.name}"],
            "detail": {},
        }


def parse_rate(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"unsupported schedule expression {expression!r} (only rate(...))")
    return int(match.group(1)) * _UNITS[match.group(2)]


def rules_from_template(
    template: dict[str, Any], *, function: str = FUNCTION, tick_seconds: float | None = None
) -> list[Rule]:
    props = template["Resources"][function]["Properties"]
    rules: list[Rule] = []
    for name, event in props.get("Events", {}).items():
        if event.get("Type") != "Schedule":
            continue
        spec = event["Properties"]
        raw_input = spec.get("Input")
        period = float(parse_rate(spec["Schedule"]))
        if tick_seconds:
            period = period * tick_seconds / 60
        rules.append(Rule(name, period, json.loads(raw_input) if raw_input else None))
    return rules


def function_timeout(template: dict[str, Any], function: str) -> float:
    props = template["Resources"][function].get("Properties", {})
    globals_ = template.get("Globals", {}).get("Function", {})
    return float(props.get("Timeout", globals_.get("Timeout", 3)))


class EventBridge(threading.Thread):
    def __init__(
        self,
        rules: list[Rule],
        invoker: Invoker,
        *,
        timeout_seconds: float,
        handler: str = HANDLER,
        function_name: str = FUNCTION,
    ) -> None:
        super().__init__(name="eventbridge", daemon=True)
        self.rules = rules
        self.invoker = invoker
        self.timeout_seconds = timeout_seconds
        self.handler = handler
        self.function_name = function_name
        self.stopping = threading.Event()
        self.invocations = 0

    def next_fire(self, now: float) -> tuple[float, list[Rule]]:
        """The next boundary any rule reaches, and the rules that fire at it."""
        times = [(now // r.period_seconds + 1) * r.period_seconds for r in self.rules]
        soonest = min(times)
        return soonest, [rule for rule, at in zip(self.rules, times, strict=True) if at == soonest]

    def fire(self, rule: Rule, at: float) -> None:
        ok, _ = self.invoker.invoke(
            self.handler,
            rule.event(at, region=self.invoker.region),
            function_name=self.function_name,
            timeout_seconds=self.timeout_seconds,
        )
        self.invocations += 1
        log.debug("rule %s fired (ok=%s)", rule.name, ok)

    def run(self) -> None:
        while not self.stopping.is_set():
            at, due = self.next_fire(time.time())
            if self.stopping.wait(max(0.0, at - time.time())):
                return
            for rule in due:
                self.fire(rule, at)

    def stop(self) -> None:
        self.stopping.set()
