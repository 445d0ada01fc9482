"""Connecting an account: authorize (make a state, send the person to the platform) and the
callback (consume the state once, exchange the code, store the accounts with encrypted tokens).

Each step touches Redis exactly once: SET on authorize, GETDEL on the callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from herald.accounts import Account, AccountStatus
from herald.clock import isoformat
from herald.errors import HeraldError
from herald.ids import stable_id
from herald.oauth.flows import ConnectedIdentity, flow_for, provider_of
from herald.oauth.pkce import new_verifier, s256_challenge
from herald.oauth.state import InvalidState, PendingAuthorization
from herald.observability import logger

if TYPE_CHECKING:
    from herald.container import Container


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


async def authorize(
    container: Container, business_id: str, provider_name: str
) -> AuthorizationStart:
    provider = provider_of(provider_name)
    flow = await flow_for(container, provider)
    verifier = new_verifier() if flow.uses_pkce else None
    redirect_uri = container.settings.oauth_redirect_uri(provider)
    pending = PendingAuthorization(
        business_id=business_id,
        provider=provider,
        redirect_uri=redirect_uri,
        created_at=isoformat(container.clock.now()),
        code_verifier=verifier,
    )
    state = await container.oauth_states.create(pending)
    url = flow.authorization_url(
        state=state,
        redirect_uri=redirect_uri,
        code_challenge=s256_challenge(verifier) if verifier else None,
    )
    return AuthorizationStart(url, container.oauth_states.ttl_seconds)


async def complete(
    container: Container,
    provider_name: str,
    *,
    state: str,
    code: str | None,
    error: str | None = None,
    expected_business: str | None = None,
) -> list[Account]:
    """Finish a connection. The state is spent whatever happens next: a failed exchange is
    retried by starting again, never by replaying a callback."""
    provider = provider_of(provider_name)
    pending = await container.oauth_states.consume(state)
    if pending.provider != provider:
        raise InvalidState("the OAuth state was issued for another platform")
    if expected_business is not None and pending.business_id != expected_business:
        raise InvalidState("the OAuth state belongs to another business")
    if error:
        raise AuthorizationDenied(f"{provider} reported {error!r}: the connection was not approved")
    if not code:
        raise AuthorizationDenied(f"{provider} sent no authorization code")
    flow = await flow_for(container, provider)
    identities = await flow.exchange(
        code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
    )
    stored = await run_in_threadpool(_store, container, pending.business_id, identities)
    logger.info(
        "accounts connected",
        extra={
            "business_id": pending.business_id,
            "provider": provider,
            "account_ids": [a.account_id for a in stored],
        },
    )
    return stored


def _store(
    container: Container, business_id: str, identities: list[ConnectedIdentity]
) -> list[Account]:
    vault = container.vault
    stored: list[Account] = []
    for identity in identities:
        tokens = identity.tokens
        account = Account(
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
        stored.append(container.accounts.upsert(account))
    return stored
