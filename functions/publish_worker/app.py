"""SQS -> the publish worker: a batch's records at once, with a partial batch response."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from herald import worker
from herald.container import get_container
from herald.observability import logger, metrics, tracer

processor = worker.RecordProcessor()


async def record_handler(record: SQSRecord, invocation: worker.Invocation) -> str:
    return await invocation.handle(record)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The batch reads its accounts up front and sends its events at the end (herald.worker);
    # its records' deadline is the time this invocation has left.
    invocation = worker.Invocation(
        get_container().engine_ports, event.get("Records", []), context.get_remaining_time_in_millis
    )
    response = async_process_partial_response(
        event=event,
        record_handler=partial(record_handler, invocation=invocation),
        processor=processor,
        context=context,
    )
    return invocation.finish(response)
