"""The vault: Fernet under rotating keys, and a clear error for a token no key opens."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from herald.errors import DependencyUnavailable
from herald.settings import Settings
from herald.vault import TokenUndecryptable, Vault, fernet_key, key_loader

A = Fernet.generate_key().decode()
B = Fernet.generate_key().decode()


def test_a_token_round_trips_and_is_not_stored_in_clear() -> None:
    vault = Vault(lambda: [A])
    sealed = vault.encrypt("secret-token")
    assert "secret-token" not in sealed
    assert vault.decrypt(sealed) == "secret-token"


def test_new_tokens_use_the_first_key_and_old_ones_still_open() -> None:
    old = Vault(lambda: [A]).encrypt("t")
    vault = Vault(lambda: [B, A])
    assert vault.decrypt(old) == "t"
    Fernet(B.encode()).decrypt(vault.encrypt("u").encode())


def test_rotate_moves_a_token_to_the_primary_key() -> None:
    old = Vault(lambda: [A]).encrypt("t")
    rotated = Vault(lambda: [B, A]).rotate(old)
    assert Vault(lambda: [B]).decrypt(rotated) == "t"
    assert Vault(lambda: [B, A]).rotate(rotated) == rotated


def test_a_token_no_key_opens_is_a_named_error() -> None:
    sealed = Vault(lambda: [A]).encrypt("t")
    with pytest.raises(TokenUndecryptable):
        Vault(lambda: [B]).decrypt(sealed)
    with pytest.raises(TokenUndecryptable):
        Vault(lambda: [A]).decrypt("not-a-fernet-token")


def test_the_vault_follows_a_changed_key_list_without_a_restart() -> None:
    keys = [A]
    vault = Vault(lambda: keys)
    sealed = vault.encrypt("t")
    keys[:] = [B, A]
    assert Fernet(B.encode()).decrypt(vault.encrypt("u").encode()) == b"u"
    assert vault.decrypt(sealed) == "t"


def test_non_fernet_key_material_is_stretched_to_a_key() -> None:
    material = "x" * 64
    Fernet(fernet_key(material))
    assert fernet_key(A) == A.encode()


def test_production_without_any_key_refuses_to_encrypt() -> None:
    settings = Settings(HERALD_ENV="production")
    with pytest.raises(DependencyUnavailable):
        Vault(key_loader(settings, None)).encrypt("t")


def test_keys_come_from_the_environment_locally() -> None:
    settings = Settings(HERALD_ENV="test", TOKEN_ENCRYPTION_KEYS=f"{B},{A}")
    assert key_loader(settings, None)() == [B, A]
