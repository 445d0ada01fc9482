"""What the Lambda service gives a handler, for running the handlers in one local process.

Handlers are imported on first use by dotted name: one missing or broken handler module is logged
and retried at the next invocation, so the rest of the local stack keeps running.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("herald.local")

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes Powertools and the handlers read from a real Lambda context."""

    function_name: str
    timeout_seconds: float = 60.0
    memory_limit_in_mb: int = 512
    region: str = "us-east-1"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = (
            f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]local")

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Invoker:
    """Invokes handlers one at a time, as one Lambda execution environment would.

    The tick and the worker share the process-wide event loop (`herald.aio`) and container, so
    two invocations must never overlap: a lock serialises them.
    """

    def __init__(
        self, *, region: str = "us-east-1", handlers: dict[str, Handler] | None = None
    ) -> None:
        self.region = region
        self._lock = threading.Lock()
        # Pre-filled handlers stand in for the dotted names (tests hand in recording fakes).
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._missing: set[str] = set()

    def handler(self, dotted: str) -> Handler | None:
        if dotted in self._handlers:
            return self._handlers[dotted]
        module_name, _, attr = dotted.rpartition(".")
        try:
            found: Handler = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:  # noqa: BLE001 - a missing handler must not stop the stack
            if dotted not in self._missing:
                log.warning("handler %s is not available yet (%s); will retry", dotted, exc)
                self._missing.add(dotted)
            return None
        self._missing.discard(dotted)
        self._handlers[dotted] = found
        return found

    def invoke(
        self, dotted: str, event: Any, *, function_name: str, timeout_seconds: float
    ) -> tuple[bool, Any]:
        """(True, result) or (False, None) when the handler is missing or raised."""
        handler = self.handler(dotted)
        if handler is None:
            return False, None
        context = LambdaContext(function_name, timeout_seconds, region=self.region)
        with self._lock:
            try:
                return True, handler(event, context)
            except Exception:  # Lambda reports the error and carries on
                log.exception("%s raised (request %s)", function_name, context.aws_request_id)
                return False, None


def close_handlers_container() -> None:
    """Close the container the handlers share, on the loop its async clients belong to."""
    from herald import aio, container

    built = container.get_container()
    aio.run(built.aclose())
    container.set_container(None)
