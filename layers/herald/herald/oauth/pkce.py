"""PKCE (RFC 7636) with S256: the verifier stays with us, only its hash goes to the platform."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_verifier() -> str:
    # 64 url-safe characters (384 bits): inside RFC 7636's 43..128 and its unreserved alphabet.
    return secrets.token_urlsafe(48)


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
