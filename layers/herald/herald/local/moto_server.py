"""moto's server for the local stack, with its SQS and DynamoDB patched (herald.local.moto_sqs,
herald.local.moto_dynamodb) and its dispatch of each request (herald.local.moto_requests).

    python -m herald.local.moto_server [--quiet] [moto.server's options: -H HOST -p PORT ...]

--quiet: no access log line per request (the stack, which throws the output away, passes it).

The stack runs it for `--moto-process` and `--sqs-process`; anything else (tests' `mock_aws`, a
plain `moto_server`) keeps moto as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

QUIET = "--quiet"


def prepare() -> None:
    """moto in this process as the local stack serves it: its request dispatch, SQS and DynamoDB
    patched. The moto server's process and the stack's moto thread both start here."""
    from herald.local import moto_dynamodb, moto_requests, moto_sqs

    moto_requests.apply()
    moto_sqs.apply()
    moto_dynamodb.apply()


def main(argv: Sequence[str] | None = None) -> None:
    from moto.server import main as moto_main

    from herald.local import moto_requests

    args = list(argv) if argv is not None else sys.argv[1:]
    if QUIET in args:
        args = [a for a in args if a != QUIET]
        moto_requests.quiet()
    prepare()
    moto_main(args)


if __name__ == "__main__":
    main()
