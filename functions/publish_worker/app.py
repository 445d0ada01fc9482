"""SQS -> the publish worker, one record at a time, with a partial batch response."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from herald import worker
from herald.container import get_container
from herald.observability import logger, metrics, tracer

# A batch whose every record failed is answered like any other (each record listed) rather than
# by raising: the outcome for SQS is the same, without an invocation error and its alarm.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, batch: worker.Batch | None = None) -> str:
    receives = int(record.attributes.approximate_receive_count or 1)
    container = get_container()
    try:
        outcome = worker.handle_message(
            container, record.body, receives, batch=batch, message_id=record.message_id
        )
    except worker.RetryLater as retry:
        if retry.delay_seconds is not None:
            worker.bring_back_after(container, record.receipt_handle, retry.delay_seconds)
        raise
    logger.info("message handled", extra={"message_id": record.message_id, "outcome": outcome})
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The batch reads its accounts up front and sends its events at the end (herald.worker).
    batch = worker.Batch(get_container(), [r.get("body", "") for r in event.get("Records", [])])
    response = process_partial_response(
        event=event,
        record_handler=partial(record_handler, batch=batch),
        processor=processor,
        context=context,
    )
    return batch.finish(response)
