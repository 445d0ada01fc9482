"""Admin commands: `python -m herald admin <command>`.

create-business --name NAME       prints the business id and a new API key (shown once)
create-api-key --business ID      prints a new API key for an existing business
revoke-api-key --business ID --key-id KEY_ID
redrive-dlq [--limit N]           moves the publish DLQ's messages back to the queue
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from herald.admin import commands
from herald.admin import dlq as _dlq_commands  # noqa: F401 - registers redrive-dlq
from herald.admin import tokens as _token_commands  # noqa: F401 - registers rotate-token-key


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m herald")
    top = parser.add_subparsers(dest="area", required=True)
    admin = top.add_parser("admin", help="operate a Herald deployment")
    sub = admin.add_subparsers(dest="command", required=True)
    for name, (func, configure, help_text) in commands.REGISTRY.items():
        cmd = sub.add_parser(name, help=help_text)
        configure(cmd)
        cmd.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], dict[str, object]] = args.func
    try:
        result = func(args)
    except Exception as exc:  # noqa: BLE001 - a CLI answers with a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
