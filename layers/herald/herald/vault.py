"""The token vault: platform tokens are encrypted with Fernet before they reach DynamoDB.

Keys rotate through MultiFernet. The key list comes from Secrets Manager in AWS (read through
Powertools Parameters, cached for `secrets_max_age_seconds`) and from TOKEN_ENCRYPTION_KEYS
locally; either is a JSON list or a comma-separated string, the first key being the primary one
every new token is written under. Rotating without downtime:

    1. put "B,A" in the secret: new writes use B, everything under A still decrypts;
    2. wait one max-age, so every Lambda has the new list;
    3. `python -m herald admin rotate-token-key`: re-encrypts every stored token under B;
    4. put "B" alone.

A key that is not already a Fernet key (the secret the template generates is 64 alphanumerics)
is stretched to one with SHA-256, so a freshly deployed stack works before anyone sets a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from herald.errors import DependencyUnavailable, HeraldError
from herald.settings import Settings

# Only for HERALD_ENV=development/test with no key configured: tokens there are sandbox tokens.
_DEVELOPMENT_KEY = "herald-development-only-token-key"


class TokenUndecryptable(HeraldError):
    """A stored token no key in the current list can open (lost key, or tampered item)."""

    code = "token_undecryptable"


def parse_keys(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("["):
        loaded = json.loads(raw)
        if not isinstance(loaded, list):
            raise ValueError("the token key secret must be a JSON list or comma-separated")
        return [str(k).strip() for k in loaded if str(k).strip()]
    return [k.strip() for k in raw.split(",") if k.strip()]


def fernet_key(material: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32:
            return material.encode()
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


class Vault:
    """Encrypts and decrypts tokens with whatever key list `load_keys` returns right now.

    `load_keys` is called on every operation; it is cheap because the secret provider caches, and
    calling it each time is what lets a new key list reach a warm Lambda without a restart.
    """

    def __init__(self, load_keys: Callable[[], Sequence[str]]) -> None:
        self._load_keys = load_keys
        self._cached: tuple[tuple[str, ...], MultiFernet, Fernet] | None = None

    def _fernets(self) -> tuple[MultiFernet, Fernet]:
        keys = tuple(self._load_keys())
        if not keys:
            raise DependencyUnavailable(
                "no token encryption key is configured", component="secrets"
            )
        if self._cached is None or self._cached[0] != keys:
            fernets = [Fernet(fernet_key(k)) for k in keys]
            self._cached = (keys, MultiFernet(fernets), fernets[0])
        return self._cached[1], self._cached[2]

    def _fernet(self) -> MultiFernet:
        return self._fernets()[0]

    def encrypt(self, plaintext: str) -> str:
        return self._fernet().encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet().decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise TokenUndecryptable(
                "a stored token cannot be decrypted with the current encryption keys"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """The same token under the primary key (unchanged if it already is)."""
        multi, primary = self._fernets()
        try:
            primary.decrypt(ciphertext.encode())
            return ciphertext
        except InvalidToken:
            pass
        try:
            return multi.rotate(ciphertext.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise TokenUndecryptable("a stored token cannot be rotated: no key opens it") from exc

    def encrypt_optional(self, plaintext: str | None) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext)


def key_loader(settings: Settings, secrets_provider: Any | None) -> Callable[[], list[str]]:
    """Where the key list comes from: the secret in AWS, the environment locally."""
    if settings.token_key_secret_name and secrets_provider is not None:
        name, max_age = settings.token_key_secret_name, settings.secrets_max_age_seconds

        def from_secret() -> list[str]:
            try:
                value = secrets_provider.get(name, max_age=max_age)
            except Exception as exc:
                raise DependencyUnavailable(
                    "the token encryption key cannot be read from Secrets Manager",
                    component="secrets",
                ) from exc
            return parse_keys(value if isinstance(value, str) else value.decode())

        return from_secret

    env_keys = settings.token_encryption_keys
    if env_keys is not None and env_keys.get_secret_value().strip():
        keys = parse_keys(env_keys.get_secret_value())
        return lambda: keys
    if settings.environment != "production":
        return lambda: [_DEVELOPMENT_KEY]
    return lambda: []
