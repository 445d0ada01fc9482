"""Logger, Tracer and Metrics, made once per process as Powertools' examples do.

Every log line passes through `RedactingFormatter`, so no token or secret reaches CloudWatch even
when a caller logs a whole platform response by mistake.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

from herald.redaction import redact

NAMESPACE = "Herald"


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return super().serialize(redact(log))


logger = Logger(service="herald", logger_formatter=RedactingFormatter())
tracer = Tracer(service="herald")
metrics = Metrics(namespace=NAMESPACE, service="herald")
