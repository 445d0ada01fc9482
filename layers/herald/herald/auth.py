"""API keys: random, shown once, stored only as a SHA-256 hash.

A key looks like `hrld_<business id>.<43 url-safe characters>` (256 bits from `secrets`). Because
keys carry that much entropy a plain SHA-256 is the right hash: a slow password hash would only
add latency to every request without making a brute force any less hopeless.

The business id in the key is not a secret (it is in the API's own paths) and grants nothing: the
stored key must name the same business or the key is refused. It lets a request that names
accounts (publish, schedule) read the key and those accounts in one BatchGetItem, since their
items are keyed by the business. Keys issued before it (`hrld_<43 characters>`) still work; their
requests read the accounts separately.

Only a key that has verified may read accounts with it. Anyone can write `hrld_<a real
business>.<43 made-up characters>`: reading the accounts it names before the key is checked
would spend reads on a forgery and answer it at a pace that depends on what the business holds.
No DynamoDB read can make one item's read depend on another's, so each Lambda instance keeps the
hashes of keys it has seen verify (`VerifiedKeys`): such a key reads its accounts in the same
BatchGetItem (one round trip, the common case), while a key this instance has not seen, forged
or merely new here, is read alone first and its accounts after it verified (two, once per key
and instance). The key item is still read on every request, strongly consistent, so revoking a
key works at once everywhere.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
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


class VerifiedKeys:
    """Hashes of the keys this instance has seen verify, with their business; bounded, least
    recently used first out. A hash, never a key: it vouches only that reading the accounts with
    the key is not reading them for a forgery."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()  # authentication runs in the API's worker threads

    def vouch(self, key_hash: str, business_id: str) -> bool:
        with self._lock:
            return self._known.get(key_hash) == business_id

    def remember(self, key_hash: str, business_id: str) -> None:
        with self._lock:
            self._known[key_hash] = business_id
            self._known.move_to_end(key_hash)
            while len(self._known) > self.max_keys:
                self._known.popitem(last=False)

    def forget(self, key_hash: str) -> None:
        with self._lock:
            self._known.pop(key_hash, None)


def authenticate(
    authorization: str | None,
    keys: KeyLookup,
    *,
    accounts: Sequence[str] = (),
    verified: VerifiedKeys | None = None,
) -> Principal:
    """The key's principal; with `accounts`, those of its business are read in the same request
    when the key names its business and `verified` vouches for it (the others are left for the
    caller to read)."""
    key = bearer_key(authorization)
    business = key_business(key)
    digest = hash_key(key)
    found: dict[str, Account] = {}
    if business and accounts and verified is not None and verified.vouch(digest, business):
        record, found = keys.find_api_key_with_accounts(digest, business, accounts)
    else:
        record = keys.find_api_key(digest)
    if record is None or record.revoked or business not in (None, record.business_id):
        if verified is not None:
            verified.forget(digest)
        # One message for all: a caller learns nothing about which keys ever existed.
        raise Unauthorized("invalid or revoked API key")
    if verified is not None:
        verified.remember(digest, record.business_id)
    return Principal(business_id=record.business_id, key_id=record.key_id, accounts=found)
