"""Logger, Tracer and Metrics, made once per process as Powertools' examples do.

Every log line passes through `RedactingFormatter`, so no token or secret reaches CloudWatch even
when a caller logs a whole platform response by mistake; httpx's request lines, which the root
handler formats, are scrubbed by a filter on its logger.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

from herald.redaction import RedactingFilter, redact

NAMESPACE = "Herald"


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return super().serialize(redact(log))


logger = Logger(service="herald", logger_formatter=RedactingFormatter())
tracer = Tracer(service="herald")
metrics = Metrics(namespace=NAMESPACE, service="herald")

# httpx's records reach the root handler, and so Lambda's log, without passing through the
# formatter above.
logging.getLogger("httpx").addFilter(RedactingFilter())
