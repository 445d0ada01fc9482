"""`rotate-token-key`: re-encrypt every stored token under the primary key.

Safe while the system runs: each account is rewritten with a write conditional on the version it
was read at, and rotation does not bump that version, so a refresh that lands in between wins and
the rotation re-reads that account and tries again. See `herald.vault` for the whole procedure.
"""

from __future__ import annotations

import argparse
from typing import Any

from herald.accounts import Account
from herald.admin.commands import command
from herald.container import Container, get_container
from herald.errors import Conflict, NotFound
from herald.vault import TokenUndecryptable

_ATTEMPTS = 5


def _rotate_one(container: Container, account: Account) -> str:
    vault = container.vault
    for _ in range(_ATTEMPTS):
        try:
            access = vault.rotate(account.access_token_enc)
            refresh = vault.rotate(account.refresh_token_enc) if account.refresh_token_enc else None
        except TokenUndecryptable:
            return "undecryptable"
        if access == account.access_token_enc and refresh == account.refresh_token_enc:
            return "unchanged"
        try:
            container.accounts.update_tokens(
                account,
                access_token_enc=access,
                refresh_token_enc=refresh,
                token_expires_at=account.token_expires_at,
                refresh_token_expires_at=account.refresh_token_expires_at,
                bump_version=False,
            )
            return "rotated"
        except Conflict:
            try:
                account = container.accounts.get(
                    account.business_id, account.account_id, consistent=True
                )
            except NotFound:
                return "gone"
    return "conflicted"


def rotate_token_key(container: Container) -> dict[str, Any]:
    counts: dict[str, int] = {}
    undecryptable: list[str] = []
    for account in container.accounts.scan_all():
        outcome = _rotate_one(container, account)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "undecryptable":
            undecryptable.append(account.account_id)
    return {"accounts": sum(counts.values()), **counts, "undecryptable_accounts": undecryptable}


@command(
    "rotate-token-key",
    "re-encrypt every stored platform token under the primary (first) key",
    lambda p: None,
)
def _rotate_token_key(args: argparse.Namespace) -> dict[str, Any]:
    return rotate_token_key(get_container())
