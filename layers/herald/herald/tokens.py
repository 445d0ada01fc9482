"""Usable credentials for an account: refreshed when they are about to end, decrypted last.

Refreshing is serialized per account with a short Redis lock because X refresh tokens are
single-use. Two publishers that both see an expiring X token:

    A: lock ok -> re-read (v1, expiring) -> refresh at X (rt1 spent, rt2 issued) -> write v2
    A: unlock
    B: lock waits .........................................................-> lock ok
    B: re-read (v2, fresh) -> use A's token; rt1 is never presented again

Without the lock B would present rt1 after A spent it, and X would answer by ending the grant.
The lock outlives any Lambda that can hold it (the longest runs 60 s), so it only ever expires
for a holder that died. The token write is conditional on the version read, so a stale refresh
cannot overwrite a newer token; and a refused refresh marks the account needs_reauth only if no
newer tokens were written meanwhile (if they were, the refusal was of a token already replaced).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from herald.accounts import Account, AccountStatus, Credentials
from herald.clock import isoformat, parse_iso
from herald.errors import Conflict, NotFound
from herald.events import publish_event
from herald.oauth.flows import PLATFORM_PROVIDER, FlowPorts, flow_for
from herald.oauth.state import redis_errors
from herald.observability import logger
from herald.platforms.base import ErrorKind, PlatformError
from herald.vault import TokenUndecryptable

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from herald.clock import Clock
    from herald.ports import EventPublisher
    from herald.settings import Settings
    from herald.store.accounts import AccountRepository
    from herald.vault import Vault

REFRESH_MARGIN = timedelta(minutes=5)
SWEEP_WINDOW = timedelta(hours=24)
# A token nobody can refresh is flagged needs_reauth this long before it ends: the sweep runs
# hourly, so two hours guarantees one sweep sees it while it still works.
REAUTH_NOTICE = timedelta(hours=2)
# Longer than the longest function timeout (the worker's 60 s): a live holder never loses it.
# A dead holder's lock blocks refreshes of that account for this long; waiters give up after
# LOCK_WAIT_SECONDS with a transient error, and their post is retried.
LOCK_SECONDS = 70.0
LOCK_WAIT_SECONDS = 15.0
LOCK_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class TokenPorts:
    """What reading and refreshing tokens use, from `Container.token_ports`."""

    settings: Settings
    accounts: AccountRepository
    vault: Vault
    # The refresh lock's client, made when a token first needs refreshing: most credentials
    # asked for need none, and importing redis.asyncio is a noticeable part of a cold start.
    redis: Callable[[], aioredis.Redis]
    flows: FlowPorts  # the platform's OAuth flow, which refreshes
    events: EventPublisher
    clock: Clock


def lock_key(account_id: str) -> str:
    return f"lock:refresh:{account_id}"


async def credentials_for(ports: TokenPorts, business_id: str, account_id: str) -> Credentials:
    """The account's decrypted credentials, refreshed first if they end within 5 minutes.

    NotFound if the account is absent or another business's; PlatformError(AUTH_REVOKED) if it
    needs a person to reconnect it (revoked, expired without a refresh token, undecryptable).
    """
    account = await run_in_threadpool(ports.accounts.get, business_id, account_id)
    account = await ensure_fresh(ports, account)
    return await decrypt_credentials(ports, account)


def credentials_from(
    ports: TokenPorts, accounts: Mapping[tuple[str, str], Account]
) -> Callable[[str, str], Awaitable[Credentials]]:
    """`credentials_for` over accounts already read (the worker reads a batch's in one request);
    an account not among them, or one that needed reconnecting when it was read, is read as
    usual."""

    async def credentials(business_id: str, account_id: str) -> Credentials:
        account = accounts.get((business_id, account_id))
        if account is None or account.status is AccountStatus.NEEDS_REAUTH:
            # Read again rather than fail on a copy that may be older than a reconnection.
            return await credentials_for(ports, business_id, account_id)
        return await decrypt_credentials(ports, await ensure_fresh(ports, account))

    return credentials


async def decrypt_credentials(ports: TokenPorts, account: Account) -> Credentials:
    try:
        access_token = ports.vault.decrypt(account.access_token_enc)
    except TokenUndecryptable as exc:
        raise await _needs_reauth(
            ports, account, "the stored token cannot be decrypted; reconnect the account"
        ) from exc
    return Credentials(
        account_id=account.account_id,
        platform=account.platform,
        external_id=account.external_id,
        access_token=access_token,
        details=dict(account.details),
    )


def _revoked(account: Account) -> PlatformError:
    reason = account.status_reason or "the account must be reconnected"
    return PlatformError(account.platform, ErrorKind.AUTH_REVOKED, reason)


def _remaining(account: Account, now: datetime) -> timedelta | None:
    if not account.token_expires_at:
        return None
    return parse_iso(account.token_expires_at) - now


async def ensure_fresh(
    ports: TokenPorts, account: Account, margin: timedelta = REFRESH_MARGIN
) -> Account:
    if account.status is AccountStatus.NEEDS_REAUTH:
        raise _revoked(account)
    remaining = _remaining(account, ports.clock.now())
    if remaining is None or remaining > margin:
        return account
    if not account.refresh_token_enc:
        if remaining <= timedelta(0):
            raise await _needs_reauth(
                ports, account, "the access token expired and cannot be refreshed"
            )
        return account  # still valid for a few minutes, and nothing can extend it
    return await refresh_locked(ports, account, margin)


async def refresh_locked(ports: TokenPorts, account: Account, margin: timedelta) -> Account:
    lock = ports.redis().lock(
        lock_key(account.account_id),
        timeout=LOCK_SECONDS,
        sleep=LOCK_POLL_SECONDS,
        blocking_timeout=LOCK_WAIT_SECONDS,
    )
    async with redis_errors("the token cannot be locked for its refresh"):
        acquired = await lock.acquire()
    if not acquired:
        raise PlatformError(
            account.platform, ErrorKind.TRANSIENT, "another refresh of this account is running"
        )
    try:
        current = await run_in_threadpool(
            ports.accounts.get, account.business_id, account.account_id, consistent=True
        )
        if current.status is AccountStatus.NEEDS_REAUTH:
            raise _revoked(current)
        remaining = _remaining(current, ports.clock.now())
        if current.version != account.version or remaining is None or remaining > margin:
            return current  # someone refreshed (or reconnected) while we waited: use theirs
        return await _refresh(ports, current)
    finally:
        try:
            await lock.release()
        except Exception as exc:  # noqa: BLE001 - an expired lock is released anyway
            logger.warning("refresh lock release failed", extra={"error_type": type(exc).__name__})


async def _refresh(ports: TokenPorts, account: Account) -> Account:
    assert account.refresh_token_enc is not None
    try:
        refresh_token = ports.vault.decrypt(account.refresh_token_enc)
    except TokenUndecryptable as exc:
        raise await _needs_reauth(
            ports, account, "the stored refresh token cannot be decrypted; reconnect"
        ) from exc
    flow = await flow_for(ports.flows, PLATFORM_PROVIDER[account.platform])
    try:
        tokens = await flow.refresh(refresh_token)
    except PlatformError as exc:
        if exc.kind is not ErrorKind.AUTH_REVOKED:
            raise
        try:
            error = await _needs_reauth(ports, account, exc.reason(), if_unchanged=True)
        except Conflict:
            # Newer tokens were written while this refresh ran (a reconnect, or a refresh whose
            # lock this one outlived): the refusal was of a token already replaced. Use them.
            return await run_in_threadpool(
                ports.accounts.get, account.business_id, account.account_id, consistent=True
            )
        raise error from exc

    def write() -> Account:
        vault = ports.vault
        try:
            return ports.accounts.update_tokens(
                account,
                access_token_enc=vault.encrypt(tokens.access_token),
                # X hands a new refresh token each time; LinkedIn may hand none back.
                refresh_token_enc=vault.encrypt(tokens.refresh_token or refresh_token),
                token_expires_at=isoformat(tokens.expires_at) if tokens.expires_at else None,
                refresh_token_expires_at=(
                    isoformat(tokens.refresh_expires_at)
                    if tokens.refresh_expires_at
                    else account.refresh_token_expires_at
                ),
            )
        except Conflict:
            # A reconnect landed while we refreshed: its tokens are the newer ones.
            return ports.accounts.get(account.business_id, account.account_id, consistent=True)

    refreshed = await run_in_threadpool(write)
    logger.info(
        "token refreshed",
        extra={
            "account_id": account.account_id,
            "platform": account.platform,
            "token_expires_at": refreshed.token_expires_at,
        },
    )
    return refreshed


async def _needs_reauth(
    ports: TokenPorts, account: Account, reason: str, *, if_unchanged: bool = False
) -> PlatformError:
    """Flag the account for a person and announce it; returns the error for the caller. With
    `if_unchanged`, Conflict if the account's tokens changed since `account` was read."""
    try:
        await run_in_threadpool(
            partial(
                ports.accounts.mark_status, if_version=account.version if if_unchanged else None
            ),
            account.business_id,
            account.account_id,
            AccountStatus.NEEDS_REAUTH,
            reason,
        )
    except NotFound:
        return PlatformError(account.platform, ErrorKind.AUTH_REVOKED, reason)
    await announce_needs_reauth(ports.events, account, reason)
    return PlatformError(account.platform, ErrorKind.AUTH_REVOKED, reason)


async def announce_needs_reauth(events: EventPublisher, account: Account, reason: str) -> None:
    """`account.needs_reauth`, the same from the refresh and from a publish that found the token
    revoked. Its id comes from the tokens' version, so the one revocation found twice (a refresh
    and a publish, two posts at once) is one event to subscribers."""
    await publish_event(
        events,
        "account.needs_reauth",
        _payload(account, reason),
        dedupe_key=f"{account.account_id}:needs_reauth:{account.version}",
    )
    logger.warning(
        "account needs reauthorization",
        extra={"account_id": account.account_id, "platform": account.platform, "reason": reason},
    )


def _payload(account: Account, reason: str) -> dict[str, Any]:
    return {
        "business_id": account.business_id,
        "account_id": account.account_id,
        "platform": account.platform,
        "display_name": account.display_name,
        "token_expires_at": account.token_expires_at,
        "reason": reason,
    }


# --- the hourly sweep -----------------------------------------------------------------------
async def refresh_sweep(ports: TokenPorts, concurrency: int = 8) -> dict[str, Any]:
    """The tick's `refresh_tokens` task: refresh what ends within 24 hours, and warn about
    (then flag) what ends soon and cannot be refreshed."""
    now = ports.clock.now()
    notice = timedelta(days=ports.settings.linkedin_expiry_notice_days)
    horizon = now + max(SWEEP_WINDOW, notice)
    found = await run_in_threadpool(ports.accounts.expiring_before, isoformat(horizon))
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(business_id: str, account_id: str) -> None:
        async with gate:
            try:
                account = await run_in_threadpool(ports.accounts.get, business_id, account_id)
                outcomes[await _sweep_one(ports, account, now, notice)] += 1
            except NotFound:
                outcomes["gone"] += 1
            except Exception as exc:  # noqa: BLE001 - one account must not stop the sweep
                outcomes["failed"] += 1
                logger.warning(
                    "refresh sweep failed for an account",
                    extra={"account_id": account_id, "error_type": type(exc).__name__},
                )

    await asyncio.gather(*(one(b, a) for b, a in found))
    return {"checked": len(found), **dict(sorted(outcomes.items()))}


async def _sweep_one(ports: TokenPorts, account: Account, now: datetime, notice: timedelta) -> str:
    if account.status is AccountStatus.NEEDS_REAUTH:
        return "skipped"
    remaining = _remaining(account, now)
    if remaining is None:
        return "not_due"
    if account.refresh_token_enc:
        if remaining > SWEEP_WINDOW:
            return "not_due"
        try:
            refreshed = await refresh_locked(ports, account, SWEEP_WINDOW)
        except PlatformError as exc:
            return "needs_reauth" if exc.kind is ErrorKind.AUTH_REVOKED else "failed"
        return "refreshed" if refreshed.version != account.version else "fresh"
    if remaining <= REAUTH_NOTICE:
        await _needs_reauth(
            ports, account, "the access token ends soon and cannot be refreshed; reconnect"
        )
        return "needs_reauth"
    if remaining <= notice and account.status is AccountStatus.CONNECTED:
        reason = f"the access token ends at {account.token_expires_at}; reconnect before then"
        await run_in_threadpool(
            ports.accounts.mark_status,
            account.business_id,
            account.account_id,
            AccountStatus.EXPIRING,
            reason,
        )
        await publish_event(
            ports.events,
            "account.expiring",
            _payload(account, reason),
            dedupe_key=f"{account.account_id}:expiring:{account.token_expires_at}",
        )
        return "expiring"
    return "not_due"
