"""Disconnecting an account: revoke at the platform where it offers revocation, then delete.

Revocation is best effort: a platform that is down, or a token that is already dead, must not
keep a business from removing an account, so the item is deleted whatever the platform said and
the answer reports whether the platform confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from herald.accounts import Account
from herald.errors import HeraldError
from herald.oauth.flows import PLATFORM_PROVIDER, FlowPorts, flow_for
from herald.observability import logger

if TYPE_CHECKING:
    from herald.store.accounts import AccountRepository
    from herald.vault import Vault


@dataclass(frozen=True)
class RevocationPorts:
    """What disconnecting uses, from `Container.revocation_ports`."""

    accounts: AccountRepository
    vault: Vault
    flows: FlowPorts


def _shares_meta_grant(account: Account, others: list[Account]) -> bool:
    # A Page and its Instagram account (and other Pages of the same login) live on one grant:
    # revoking it for one would silently break the rest.
    user_id = account.details.get("user_id")
    return any(
        o.account_id != account.account_id
        and o.platform in ("facebook", "instagram")
        and o.details.get("user_id") == user_id
        for o in others
    )


async def disconnect(ports: RevocationPorts, business_id: str, account_id: str) -> bool:
    account = await run_in_threadpool(ports.accounts.get, business_id, account_id)
    revoked = False
    try:
        revoked = await _revoke(ports, account)
    except HeraldError as exc:
        logger.warning(
            "revocation at the platform failed; deleting anyway",
            extra={
                "account_id": account_id,
                "platform": account.platform,
                "error_type": type(exc).__name__,
            },
        )
    await run_in_threadpool(ports.accounts.delete, business_id, account_id)
    logger.info("account disconnected", extra={"account_id": account_id, "revoked": revoked})
    return revoked


async def _revoke(ports: RevocationPorts, account: Account) -> bool:
    if account.platform in ("facebook", "instagram"):
        others = await run_in_threadpool(ports.accounts.list_for_business, account.business_id)
        if _shares_meta_grant(account, others):
            return False
    vault = ports.vault
    access = vault.decrypt(account.access_token_enc)
    refresh = vault.decrypt(account.refresh_token_enc) if account.refresh_token_enc else None
    flow = await flow_for(ports.flows, PLATFORM_PROVIDER[account.platform])
    return await flow.revoke(access, refresh, account.details)
