"""A worker handler for the worker-process test: it notes each delivery, then takes a moment."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

DELIVERIES = "HERALD_TEST_DELIVERIES"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with Path(os.environ[DELIVERIES]).open("a") as out:
        for record in event["Records"]:
            receives = record["attributes"]["ApproximateReceiveCount"]
            out.write(f"{os.getpid()} {record['messageId']} {receives}\n")
    # Long enough for a kill drawn "at a random moment" to land inside the invocation.
    time.sleep(0.2)
    return {"batchItemFailures": []}
