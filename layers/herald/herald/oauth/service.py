"""Connecting an account: authorize (make a state, send the person to the platform) and the
callback (consume the state once, exchange the code for the accounts and their tokens).

A callback that proved its business (it carried the business's key) stores the accounts at once
(`complete`). One that did not, the browser's, holds them until the business confirms with its
key (`hold`, then `confirm`; herald.oauth.confirmations says why). Redis round trips: one to
authorize, two on the callback (spend the state, hold the accounts), one to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from herald.accounts import Account, AccountStatus
from herald.clock import isoformat
from herald.errors import DependencyUnavailable, HeraldError
from herald.ids import stable_id
from herald.oauth.flows import (
    PROVIDER_PLATFORM,
    ConnectedIdentity,
    FlowPorts,
    flow_for,
    provider_of,
)
from herald.oauth.pkce import new_verifier, s256_challenge
from herald.oauth.state import PendingAuthorization
from herald.observability import logger
from herald.platforms.base import ErrorKind, PlatformError

if TYPE_CHECKING:
    from herald.clock import Clock
    from herald.oauth.confirmations import ConfirmationStore
    from herald.oauth.state import StateStore
    from herald.settings import Settings
    from herald.store.accounts import AccountRepository
    from herald.vault import Vault


@dataclass(frozen=True)
class OAuthPorts:
    """What connecting an account uses, from `Container.oauth_ports`."""

    settings: Settings
    accounts: AccountRepository
    vault: Vault  # the tokens are encrypted before anything holds or stores them
    states: StateStore
    confirmations: ConfirmationStore
    flows: FlowPorts
    clock: Clock


class AuthorizationDenied(HeraldError):
    """The person declined at the platform, or the platform sent no code."""

    code = "access_denied"


@dataclass(frozen=True)
class AuthorizationStart:
    authorization_url: str
    state_expires_in: int


def account_id_for(business_id: str, platform: str, external_id: str) -> str:
    # Deterministic, so reconnecting the same account updates it instead of adding another.
    return stable_id("acc", business_id, platform, external_id)


async def authorize(ports: OAuthPorts, business_id: str, provider_name: str) -> AuthorizationStart:
    provider = provider_of(provider_name)
    flow = await flow_for(ports.flows, provider)
    verifier = new_verifier() if flow.uses_pkce else None
    redirect_uri = ports.settings.oauth_redirect_uri(provider)
    pending = PendingAuthorization(
        business_id=business_id,
        provider=provider,
        redirect_uri=redirect_uri,
        created_at=isoformat(ports.clock.now()),
        code_verifier=verifier,
    )
    state = await ports.states.create(pending)
    url = flow.authorization_url(
        state=state,
        redirect_uri=redirect_uri,
        code_challenge=s256_challenge(verifier) if verifier else None,
    )
    return AuthorizationStart(url, ports.states.ttl_seconds)


@dataclass(frozen=True)
class Held:
    """Accounts a callback exchanged, waiting for their business's confirmation."""

    confirmation: str
    accounts: list[Account]
    expires_in: int


async def complete(
    ports: OAuthPorts,
    provider_name: str,
    *,
    state: str,
    code: str | None,
    error: str | None = None,
    expected_business: str | None = None,
) -> list[Account]:
    """Finish a connection for a caller that proved its business, or for Herald's own tools
    (tests, the local stack): the accounts are stored at once."""
    pending, accounts = await _exchange(ports, provider_name, state, code, error, expected_business)
    return await run_in_threadpool(_store, ports, pending.business_id, accounts)


async def hold(
    ports: OAuthPorts, provider_name: str, *, state: str, code: str | None, error: str | None
) -> Held:
    """Finish the platform's side for a browser: nothing is stored until `confirm`."""
    pending, accounts = await _exchange(ports, provider_name, state, code, error, None)
    store = ports.confirmations
    confirmation = await store.hold(pending.business_id, pending.provider, accounts)
    return Held(confirmation, accounts, store.ttl_seconds)


async def confirm(
    ports: OAuthPorts, business_id: str, provider_name: str, confirmation: str
) -> list[Account]:
    """Store the accounts a callback held, if `business_id` is the business that started it."""
    provider = provider_of(provider_name)
    store = ports.confirmations
    accounts = await store.take(business_id, provider, confirmation)
    try:
        return await run_in_threadpool(_store, ports, business_id, accounts)
    except DependencyUnavailable:
        # The 503 says to try again: the confirmation must still be there when the client does.
        await store.give_back(business_id, provider, confirmation, accounts)
        raise


async def _exchange(
    ports: OAuthPorts,
    provider_name: str,
    state: str,
    code: str | None,
    error: str | None,
    expected_business: str | None,
) -> tuple[PendingAuthorization, list[Account]]:
    """Spend the state and exchange the code. A failed exchange is retried by starting again,
    never by replaying a callback."""
    provider = provider_of(provider_name)
    pending = await ports.states.consume(state, provider, expected_business)
    if error:
        raise AuthorizationDenied(f"{provider} reported {error!r}: the connection was not approved")
    if not code:
        raise AuthorizationDenied(f"{provider} sent no authorization code")
    flow = await flow_for(ports.flows, provider)
    try:
        identities = await flow.exchange(
            code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
        )
    except (KeyError, TypeError, ValueError) as exc:
        # A 200 without the fields the platform documents: the person is sent back with
        # token_exchange_failed, as for any refused exchange, not with a 500.
        raise PlatformError(
            PROVIDER_PLATFORM[provider],
            ErrorKind.PLATFORM_ERROR,
            f"{provider} answered the exchange without what its documentation promises "
            f"({type(exc).__name__}: {exc})",
        ) from exc
    return pending, [_account(ports, pending.business_id, i) for i in identities]


def _account(ports: OAuthPorts, business_id: str, identity: ConnectedIdentity) -> Account:
    vault = ports.vault
    tokens = identity.tokens
    return Account(
        account_id=account_id_for(business_id, identity.platform, identity.external_id),
        business_id=business_id,
        platform=identity.platform,
        external_id=identity.external_id,
        display_name=identity.display_name,
        status=AccountStatus.CONNECTED,
        scopes=tokens.scopes,
        access_token_enc=vault.encrypt(tokens.access_token),
        refresh_token_enc=vault.encrypt_optional(tokens.refresh_token),
        token_expires_at=isoformat(tokens.expires_at) if tokens.expires_at else None,
        refresh_token_expires_at=(
            isoformat(tokens.refresh_expires_at) if tokens.refresh_expires_at else None
        ),
        details=identity.details,
    )


def _store(ports: OAuthPorts, business_id: str, accounts: list[Account]) -> list[Account]:
    stored = [ports.accounts.upsert(account) for account in accounts]
    logger.info(
        "accounts connected",
        extra={"business_id": business_id, "account_ids": [a.account_id for a in stored]},
    )
    return stored
