"""API Gateway HTTP API (payload v2) -> FastAPI, through Mangum."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from herald import aio
from herald.api.app import create_app
from herald.observability import logger, metrics, tracer

aio.loop()  # before Mangum, which looks for the current loop when it is built
app = create_app()
_asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    aio.loop()  # Mangum runs on the current loop: make it the one the async clients are bound to.
    response: dict[str, Any] = _asgi(event, context)
    return response
