"""API keys: random, shown once, stored only as a SHA-256 hash.

A key looks like `hrld_<43 url-safe characters>` (256 bits from `secrets`). Because keys carry
that much entropy a plain SHA-256 is the right hash: a slow password hash would only add latency
to every request without making a brute force any less hopeless.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from herald.errors import Unauthorized

KEY_PREFIX = "hrld_"
_KEY_SHAPE = re.compile(r"^hrld_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Principal:
    business_id: str
    key_id: str


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    key_hash: str


class KeyLookup(Protocol):
    def find_api_key(self, key_hash: str) -> _KeyRecord | None: ...


class _KeyRecord(Protocol):
    @property
    def key_id(self) -> str: ...

    @property
    def business_id(self) -> str: ...

    @property
    def revoked(self) -> bool: ...


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key() -> IssuedKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hash_key(key)
    return IssuedKey(key=key, key_id="key_" + digest[:16], key_hash=digest)


def bearer_key(authorization: str | None) -> str:
    """The key from an `Authorization: Bearer <key>` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized("missing Authorization header; send 'Authorization: Bearer <api key>'")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("malformed Authorization header; expected 'Bearer <api key>'")
    key = value.strip()
    if not _KEY_SHAPE.match(key):
        raise Unauthorized("malformed API key")
    return key


def authenticate(authorization: str | None, keys: KeyLookup) -> Principal:
    key = bearer_key(authorization)
    record = keys.find_api_key(hash_key(key))
    if record is None or record.revoked:
        # One message for both: a caller learns nothing about which keys ever existed.
        raise Unauthorized("invalid or revoked API key")
    return Principal(business_id=record.business_id, key_id=record.key_id)
