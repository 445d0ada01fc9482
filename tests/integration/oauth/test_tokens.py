"""Credentials for publishing: refresh before expiry under a per-account lock, needs_reauth when
the platform refuses, and the hourly sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from herald import aio
from herald.accounts import AccountStatus
from herald.clock import FrozenClock, parse_iso
from herald.container import Container
from herald.errors import NotFound
from herald.local.sandbox.state import SandboxState
from herald.local.template import load_template
from herald.platforms.base import ErrorKind, PlatformError
from herald.tokens import LOCK_SECONDS, credentials_for, lock_key, refresh_sweep
from tests.fakes.oauth import (
    connect,
    topic_reader,
    until_expiry,
)


def test_credentials_are_decrypted_for_a_fresh_token_without_a_refresh(
    oauth_container: Container,
    sandbox_app: Any,
    sandbox: SandboxState,
    business: dict[str, Any],
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]

    creds = aio.run(
        credentials_for(oauth_container.token_ports, business["business_id"], account.account_id)
    )

    assert sandbox.token_owner("x", creds.access_token) is not None
    assert creds.details["username"] == "herald_sandbox"
    assert sandbox.calls["x.refresh"] == 0
    assert creds.access_token not in repr(creds)


def test_another_business_gets_not_found(
    oauth_container: Container,
    sandbox_app: Any,
    business: dict[str, Any],
    other_business: dict[str, Any],
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    with pytest.raises(NotFound):
        aio.run(
            credentials_for(
                oauth_container.token_ports, other_business["business_id"], account.account_id
            )
        )


def test_ten_concurrent_publishers_share_one_refresh_of_an_x_token(
    oauth_container: Container,
    sandbox_app: Any,
    sandbox: SandboxState,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    until_expiry(oauth_clock, account, 120)  # inside the 5-minute margin

    async def ten() -> list[Any]:
        return await asyncio.gather(
            *(
                credentials_for(
                    oauth_container.token_ports, business["business_id"], account.account_id
                )
                for _ in range(10)
            )
        )

    results = aio.run(ten())

    assert sandbox.calls["x.refresh"] == 1
    tokens = {c.access_token for c in results}
    assert len(tokens) == 1
    assert sandbox.token_owner("x", tokens.pop()) is not None
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.version == account.version + 1
    assert parse_iso(stored.token_expires_at or "") > oauth_clock.now()
    new_refresh = oauth_container.vault.decrypt(stored.refresh_token_enc or "")
    assert new_refresh in sandbox.refresh_tokens  # the rotated one, the old one spent


def test_the_refresh_lock_is_released_after_a_refresh(
    oauth_container: Container,
    sandbox_app: Any,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
    redis_sync: Any,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    until_expiry(oauth_clock, account, 60)
    aio.run(
        credentials_for(oauth_container.token_ports, business["business_id"], account.account_id)
    )
    assert redis_sync.exists(lock_key(account.account_id)) == 0


def test_a_refused_refresh_marks_the_account_needs_reauth_and_announces_it(
    oauth_container: Container,
    sandbox_app: Any,
    sandbox: SandboxState,
    aws: Any,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    events = topic_reader(oauth_container, aws)
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    sandbox.refresh_tokens.clear()  # the person revoked the app at X
    until_expiry(oauth_clock, account, 60)

    with pytest.raises(PlatformError) as raised:
        aio.run(
            credentials_for(
                oauth_container.token_ports, business["business_id"], account.account_id
            )
        )

    assert raised.value.kind is ErrorKind.AUTH_REVOKED
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.status is AccountStatus.NEEDS_REAUTH
    assert "invalid_request" in (stored.status_reason or "")
    published = events()
    assert [e["type"] for e in published] == ["account.needs_reauth"]
    assert published[0]["business_id"] == business["business_id"]
    assert published[0]["data"]["account_id"] == account.account_id
    # and the next publisher is told at once, without another call to X
    with pytest.raises(PlatformError):
        aio.run(
            credentials_for(
                oauth_container.token_ports, business["business_id"], account.account_id
            )
        )
    assert sandbox.calls["x.token"] == 2  # the exchange and the one refused refresh


def test_a_token_no_key_can_open_marks_the_account_needs_reauth(
    oauth_container: Container,
    sandbox_app: Any,
    business: dict[str, Any],
    aws: Any,
) -> None:
    from herald.vault import Vault
    from tests.fakes.oauth import KEY_B

    events = topic_reader(oauth_container, aws)
    account = connect(oauth_container, sandbox_app, business["business_id"], "linkedin")[0]
    oauth_container.__dict__["vault"] = Vault(lambda: [KEY_B])  # key A lost

    with pytest.raises(PlatformError) as raised:
        aio.run(
            credentials_for(
                oauth_container.token_ports, business["business_id"], account.account_id
            )
        )

    assert raised.value.kind is ErrorKind.AUTH_REVOKED
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.status is AccountStatus.NEEDS_REAUTH
    assert "cannot be decrypted" in (stored.status_reason or "")
    assert [e["type"] for e in events()] == ["account.needs_reauth"]


def test_an_expired_linkedin_token_without_refresh_token_needs_reauth(
    oauth_container: Container,
    sandbox_app: Any,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "linkedin")[0]
    assert account.refresh_token_enc is None
    until_expiry(oauth_clock, account, -1)

    with pytest.raises(PlatformError):
        aio.run(
            credentials_for(
                oauth_container.token_ports, business["business_id"], account.account_id
            )
        )

    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.status is AccountStatus.NEEDS_REAUTH


def test_a_linkedin_token_with_a_refresh_token_is_refreshed(
    oauth_container: Container,
    sandbox_app: Any,
    sandbox: SandboxState,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    sandbox.linkedin_refresh_tokens = True
    account = connect(oauth_container, sandbox_app, business["business_id"], "linkedin")[0]
    until_expiry(oauth_clock, account, 60)

    creds = aio.run(
        credentials_for(oauth_container.token_ports, business["business_id"], account.account_id)
    )

    assert sandbox.token_owner("linkedin", creds.access_token) is not None
    assert sandbox.calls["linkedin.token"] == 2


def test_the_sweep_warns_then_flags_a_linkedin_account_it_cannot_refresh(
    oauth_container: Container,
    sandbox_app: Any,
    business: dict[str, Any],
    aws: Any,
    oauth_clock: FrozenClock,
) -> None:
    events = topic_reader(oauth_container, aws)
    account = connect(oauth_container, sandbox_app, business["business_id"], "linkedin")[0]

    until_expiry(oauth_clock, account, 6 * 86_400)
    first = aio.run(refresh_sweep(oauth_container.token_ports))
    until_expiry(oauth_clock, account, 3600)
    second = aio.run(refresh_sweep(oauth_container.token_ports))
    third = aio.run(refresh_sweep(oauth_container.token_ports))

    assert first == {"checked": 1, "expiring": 1}
    assert second == {"checked": 1, "needs_reauth": 1}
    assert third == {"checked": 0}  # flagged accounts leave the expiry index
    assert [e["type"] for e in events()] == ["account.expiring", "account.needs_reauth"]
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.status is AccountStatus.NEEDS_REAUTH


def test_the_sweep_refreshes_tokens_ending_within_a_day_and_leaves_the_rest(
    oauth_container: Container,
    sandbox_app: Any,
    sandbox: SandboxState,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
) -> None:
    x = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    connect(oauth_container, sandbox_app, business["business_id"], "linkedin")
    connect(oauth_container, sandbox_app, business["business_id"], "meta")

    result = aio.run(refresh_sweep(oauth_container.token_ports))

    # X (2 h) is refreshed; LinkedIn (60 days) is outside every window; Meta never expires.
    assert result == {"checked": 1, "refreshed": 1}
    assert sandbox.calls["x.refresh"] == 1
    stored = oauth_container.accounts.get(business["business_id"], x.account_id)
    assert stored.version == x.version + 1


def test_a_refusal_of_a_token_already_replaced_uses_the_new_one_and_flags_nothing(
    oauth_container: Container,
    sandbox_app: Any,
    business: dict[str, Any],
    oauth_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = connect(oauth_container, sandbox_app, business["business_id"], "x")[0]
    until_expiry(oauth_clock, account, 60)
    vault = oauth_container.vault

    class OvertakenFlow:
        """Another run (one whose lock this refresh outlived, or a reconnect) writes fresh
        tokens while X refuses this run's now-spent refresh token."""

        async def refresh(self, refresh_token: str) -> Any:
            oauth_container.accounts.update_tokens(
                account,
                access_token_enc=vault.encrypt("the-newer-token"),
                refresh_token_enc=vault.encrypt("the-newer-refresh-token"),
                token_expires_at=(oauth_clock.now() + timedelta(hours=2)).isoformat(),
                refresh_token_expires_at=None,
            )
            raise PlatformError("x", ErrorKind.AUTH_REVOKED, "invalid_request: token was used")

    async def overtaken(container: Any, provider: str) -> OvertakenFlow:
        return OvertakenFlow()

    monkeypatch.setattr("herald.tokens.flow_for", overtaken)

    creds = aio.run(
        credentials_for(oauth_container.token_ports, business["business_id"], account.account_id)
    )

    assert creds.access_token == "the-newer-token"
    stored = oauth_container.accounts.get(business["business_id"], account.account_id)
    assert stored.status is AccountStatus.CONNECTED


def test_the_refresh_lock_outlives_any_function_that_can_hold_it() -> None:
    template = load_template()
    timeouts = [template["Globals"]["Function"]["Timeout"]] + [
        r["Properties"].get("Timeout", 0)
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]

    assert max(timeouts) < LOCK_SECONDS
