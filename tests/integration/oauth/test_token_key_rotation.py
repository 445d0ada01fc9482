"""Token key rotation: A -> B with no downtime, and `rotate-token-key` leaves nothing under A."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken

from herald import aio
from herald.__main__ import main
from herald.admin.tokens import rotate_token_key
from herald.container import Container
from herald.tokens import credentials_for
from herald.vault import Vault, parse_keys
from tests.fakes.oauth import (
    KEY_A,
    KEY_B,
    account_items,
    connect,
)


def _encrypted_values(container: Container) -> list[str]:
    values = []
    for item in account_items(container):
        values.append(item["access_token_enc"])
        if item.get("refresh_token_enc"):
            values.append(item["refresh_token_enc"])
    return values


@pytest.fixture
def connected(oauth_container: Container, sandbox_app: Any, business: dict[str, Any]) -> Any:
    for provider in ("x", "linkedin", "meta"):
        connect(oauth_container, sandbox_app, business["business_id"], provider)
    return oauth_container.accounts.list_for_business(business["business_id"])


def test_tokens_under_the_old_key_still_decrypt_once_the_new_key_is_primary(
    oauth_container: Container,
    connected: Any,
    business: dict[str, Any],
) -> None:
    oauth_container.__dict__["vault"] = Vault(lambda: [KEY_B, KEY_A])
    for account in connected:
        aio.run(
            credentials_for(
                oauth_container.token_ports, business["business_id"], account.account_id
            )
        )


def test_rotation_leaves_no_token_under_the_old_key(
    oauth_container: Container,
    connected: Any,
    business: dict[str, Any],
) -> None:
    before = [
        (
            a.account_id,
            aio.run(
                credentials_for(oauth_container.token_ports, a.business_id, a.account_id)
            ).access_token,
        )
        for a in connected
    ]
    oauth_container.__dict__["vault"] = Vault(lambda: [KEY_B, KEY_A])

    result = rotate_token_key(oauth_container)

    assert result["rotated"] == len(connected) == 5
    old, new = Fernet(KEY_A.encode()), Fernet(KEY_B.encode())
    for value in _encrypted_values(oauth_container):
        new.decrypt(value.encode())
        with pytest.raises(InvalidToken):
            old.decrypt(value.encode())
    # B alone now opens everything, with the same tokens as before
    oauth_container.__dict__["vault"] = Vault(lambda: [KEY_B])
    after = [
        (
            a.account_id,
            aio.run(
                credentials_for(oauth_container.token_ports, a.business_id, a.account_id)
            ).access_token,
        )
        for a in connected
    ]
    assert after == before


def test_rotation_does_not_bump_versions_so_it_never_beats_a_refresh(
    oauth_container: Container,
    connected: Any,
) -> None:
    versions = {a.account_id: a.version for a in connected}
    oauth_container.__dict__["vault"] = Vault(lambda: [KEY_B, KEY_A])
    rotate_token_key(oauth_container)
    assert {a["account_id"]: int(a["version"]) for a in account_items(oauth_container)} == versions


def test_a_second_rotation_finds_nothing_to_do(oauth_container: Container, connected: Any) -> None:
    oauth_container.__dict__["vault"] = Vault(lambda: [KEY_B, KEY_A])
    rotate_token_key(oauth_container)
    assert rotate_token_key(oauth_container)["unchanged"] == 5


def test_the_admin_command_is_registered(
    oauth_container: Container,
    connected: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["admin", "rotate-token-key"]) == 0
    assert '"accounts": 5' in capsys.readouterr().out


def test_key_lists_are_json_or_comma_separated() -> None:
    assert parse_keys(f'["{KEY_B}", "{KEY_A}"]') == [KEY_B, KEY_A]
    assert parse_keys(f" {KEY_B} , {KEY_A} ") == [KEY_B, KEY_A]
