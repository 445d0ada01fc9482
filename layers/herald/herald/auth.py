"""API keys: random, shown once, stored only as a SHA-256 hash.

A key looks like `hrld_<business id>.<43 url-safe characters>` (256 bits from `secrets`). Because
keys carry that much entropy a plain SHA-256 is the right hash: a slow password hash would only
add latency to every request without making a brute force any less hopeless.

The business id in the key is not a secret (it is in the API's own paths) and grants nothing: the
stored key must name the same business or the key is refused. It lets a request that names
accounts (publish, schedule) read the key and those accounts in one BatchGetItem, since their
items are keyed by the business. Keys issued before it (`hrld_<43 characters>`) still work; their
requests read the accounts separately.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from herald.accounts import Account
from herald.errors import Unauthorized

KEY_PREFIX = "hrld_"
_KEY_SHAPE = re.compile(r"^hrld_(?:(?P<business>[A-Za-z0-9_-]{1,64})\.)?[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Principal:
    business_id: str
    key_id: str
    # Accounts of this business read together with the key (see the module docstring).
    accounts: Mapping[str, Account] = field(default_factory=dict)


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    key_hash: str


class KeyLookup(Protocol):
    def find_api_key(self, key_hash: str) -> _KeyRecord | None: ...

    def find_api_key_with_accounts(
        self, key_hash: str, business_id: str, account_ids: Sequence[str]
    ) -> tuple[_KeyRecord | None, dict[str, Account]]: ...


class _KeyRecord(Protocol):
    @property
    def key_id(self) -> str: ...

    @property
    def business_id(self) -> str: ...

    @property
    def revoked(self) -> bool: ...


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(business_id: str) -> IssuedKey:
    key = f"{KEY_PREFIX}{business_id}.{secrets.token_urlsafe(32)}"
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


def key_business(key: str) -> str | None:
    """The business id a well-formed key names, None for a key issued without one."""
    match = _KEY_SHAPE.match(key)
    return match.group("business") if match else None


def authenticate(
    authorization: str | None, keys: KeyLookup, *, accounts: Sequence[str] = ()
) -> Principal:
    """The key's principal; with `accounts`, those of its business are read in the same request
    when the key names its business (the others are left for the caller to read)."""
    key = bearer_key(authorization)
    business = key_business(key)
    found: dict[str, Account] = {}
    if business and accounts:
        record, found = keys.find_api_key_with_accounts(hash_key(key), business, accounts)
    else:
        record = keys.find_api_key(hash_key(key))
    if record is None or record.revoked or business not in (None, record.business_id):
        # One message for all: a caller learns nothing about which keys ever existed.
        raise Unauthorized("invalid or revoked API key")
    return Principal(business_id=record.business_id, key_id=record.key_id, accounts=found)
