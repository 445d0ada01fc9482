"""moto's server for the local stack, with its SQS patched (herald.local.moto_sqs).

    python -m herald.local.moto_server [moto.server's options: -H HOST -p PORT ...]

The stack runs it for `--moto-process` and `--sqs-process`; anything else (tests' `mock_aws`, a
plain `moto_server`) keeps moto as it is.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence


def _exit_with_parent() -> None:
    """A stack killed before it could stop its moto (SIGKILL, or a stop that timed out) must not
    leave it running: it holds the port and every item in memory."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> None:
    from moto.server import main as moto_main

    from herald.local import moto_sqs

    _exit_with_parent()
    moto_sqs.apply()
    moto_main(list(argv) if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
