"""The environment every benchmark runs in, set before anything of Herald is imported.

`import _env` first in a bench script: it puts the repository and the layer on the path and sets
fake AWS credentials (moto answers every AWS call), disabled tracing and quiet logs. `free_port`
is for the benchmarks that start servers of their own.
"""

from __future__ import annotations

import os
import socket
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "herald")]
os.environ.update(
    {
        "HERALD_ENV": "development",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "herald",
        "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
# Metrics warns on every invocation that records none; the benchmarks are not about that.
warnings.filterwarnings("ignore")


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now, for a server the benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
