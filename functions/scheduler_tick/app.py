"""EventBridge -> the tick. The dispatch rules' Input is {"task": "dispatch", "part": k,
"parts": n} (one part of the due index each, herald.tick.Part), the hourly rules'
{"task": "refresh_tokens"} and {"task": "sync_metrics"}; {"task": "dispatch"} or a bare Scheduled
Event envelope (no Input) dispatches the whole index."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from herald import tick
from herald.container import get_container
from herald.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    container = get_container()
    if isinstance(event, dict) and event.get("task") == "refresh_tokens":
        from herald import aio
        from herald.tokens import refresh_sweep  # httpx and Redis: only on the hourly input

        swept: dict[str, Any] = aio.run(refresh_sweep(container.token_ports))
        return {"task": "refresh_tokens", **swept}
    if isinstance(event, dict) and event.get("task") == "sync_metrics":
        from herald import aio
        from herald.metrics.sync import sync_due  # the platforms' readers: only on this input

        synced = aio.run(
            sync_due(
                container.metrics_sync_ports,
                container.clock.now(),
                time_left_ms=context.get_remaining_time_in_millis,
            )
        )
        metrics.add_metric(name="MetricsPostsRead", unit="Count", value=synced.posts)
        return {"task": "sync_metrics", **synced.as_dict()}
    part = tick.Part.of(event)
    report = tick.dispatch_due(
        container.tick_ports,
        container.clock.now(),
        time_left_ms=context.get_remaining_time_in_millis,
        part=part,
    )
    metrics.add_metric(name="PostsDispatched", unit="Count", value=report.sent)
    metrics.add_metric(name="PostsMissed", unit="Count", value=report.missed)
    return {"task": "dispatch", "part": part.part, "parts": part.parts, **report.as_dict()}
