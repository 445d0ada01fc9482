"""Scrubbing of anything that looks like a credential, applied to every structured log line.

Two nets: keys whose name says "secret" (token, password, authorization, ...) have their value
replaced whatever it is, and string values are searched for credential shapes (bearer headers,
Fernet tokens, `access_token=...` pairs, Herald API keys) wherever they appear.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[REDACTED]"

_SENSITIVE_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|api[_-]?key|code_verifier|client_secret|"
    r"cookie|credential|private[_-]?key)",
    re.IGNORECASE,
)
# Keys that contain a sensitive word but hold no secret (their values are ids, counts, times).
_SAFE_KEYS = {"token_expires_at", "token_type", "expires_in", "refresh_token_expires_at"}

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),  # a Fernet token
    (re.compile(r"\bhrld_[A-Za-z0-9_.-]{16,}"), REDACTED),  # a Herald API key, business and all
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|client_secret|code_verifier|fb_exchange_token|"
            r"id_token|password|code|state)=[^&\s\"']+"
        ),
        rf"\1={REDACTED}",
    ),
    (
        re.compile(r"(?i)\"(access_token|refresh_token|client_secret|id_token)\"\s*:\s*\"[^\"]+\""),
        rf'"\1": "{REDACTED}"',
    ),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str | None = None) -> Any:
    """Return a copy of `value` with secrets replaced; never mutates the input."""
    if key is not None and key.lower() not in _SAFE_KEYS and _SENSITIVE_KEY.search(key):
        if value is None or isinstance(value, bool | int | float):
            return value
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an exception in Powertools' stack_trace, a URL object) is serialised with
    # str() later: redact that text now, or it would reach the log as it is.
    return redact_text(str(value))


class RedactingFilter(logging.Filter):
    """Scrubs a library's log record in place, whatever handler later formats it.

    httpx logs every request's URL at INFO, and Meta's token exchange carries the app secret and
    the short-lived token in its query string: a function run at INFO would ship both.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True
