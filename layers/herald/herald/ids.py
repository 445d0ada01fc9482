"""Identifiers: ULIDs sort by creation time, so newest-first listing is a reverse key scan."""

from __future__ import annotations

import hashlib

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{str(ULID()).lower()}"


def stable_id(prefix: str, *parts: str) -> str:
    """A deterministic id, so reconnecting the same account finds the same item."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
    return f"{prefix}_{digest}"
