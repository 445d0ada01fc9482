"""The admin commands. Each takes parsed arguments and returns a JSON-able dict.

Other modules register theirs with `@command(...)` (token-key rotation, DLQ redrive).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from herald.auth import issue_key
from herald.container import Container, get_container
from herald.ids import new_id

Handler = Callable[[argparse.Namespace], dict[str, Any]]
Configure = Callable[[argparse.ArgumentParser], None]
REGISTRY: dict[str, tuple[Handler, Configure, str]] = {}


def command(name: str, help_text: str, configure: Configure) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        REGISTRY[name] = (func, configure, help_text)
        return func

    return register


def create_business(container: Container, name: str) -> dict[str, Any]:
    business_id = new_id("biz")
    container.businesses.create(business_id, name)
    return {"business_id": business_id, **new_api_key(container, business_id)}


def new_api_key(container: Container, business_id: str) -> dict[str, Any]:
    issued = issue_key(business_id)
    container.businesses.add_api_key(business_id, issued.key_id, issued.key_hash)
    return {
        "business_id": business_id,
        "key_id": issued.key_id,
        "api_key": issued.key,
        "note": "store this key now: Herald keeps only its hash and cannot show it again",
    }


def _name_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True)


def _business_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--business", required=True)


@command("create-business", "create a business and print its first API key", _name_arg)
def _create_business(args: argparse.Namespace) -> dict[str, Any]:
    return create_business(get_container(), args.name)


@command("create-api-key", "issue another API key for a business", _business_arg)
def _create_api_key(args: argparse.Namespace) -> dict[str, Any]:
    container = get_container()
    container.businesses.get(args.business)
    return new_api_key(container, args.business)


def _revoke_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--business", required=True)
    p.add_argument("--key-id", required=True)


@command("revoke-api-key", "revoke an API key (it stops working at once)", _revoke_args)
def _revoke_api_key(args: argparse.Namespace) -> dict[str, Any]:
    get_container().businesses.revoke_api_key(args.business, args.key_id)
    return {"business_id": args.business, "key_id": args.key_id, "revoked": True}
