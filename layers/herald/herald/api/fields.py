"""The string types of request bodies: what any field may hold, said once.

JSON can carry what is not text: a lone UTF-16 surrogate (`"\\ud800"`) parses into a Python
string that no UTF-8 encoder accepts, so it would fail deep inside DynamoDB's serializer or the
response's rendering (a 500, with an Idempotency-Key left locked); a NUL or another control
character would reach a platform that refuses it, or a dashboard that shows it as garbage. Both
are refused here, as a 422 naming the field, before anything is stored:

    Text    a post's text or a tweet: tab, line feed and carriage return allowed, no other
            control character (C0, DEL, C1)
    Plain   everything else (ids, URLs, times, zone names, confirmations): no control character
    AccountId  Plain, 1 to 128 characters: an account id is part of a DynamoDB sort key, which
            holds 1,024 bytes, and Herald's own ids are 28
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

MAX_ID_LENGTH = 128

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _names(char: str) -> str:
    return "NUL" if char == "\x00" else f"U+{ord(char):04X}"


def _check(value: str, control: re.Pattern[str], allowed: str) -> str:
    if (found := _SURROGATE.search(value)) is not None:
        raise PydanticCustomError(
            "invalid_unicode",
            "contains a lone surrogate ({char}) at character {at}: not Unicode text; send the "
            "string as UTF-8, or the pair of \\u escapes for a character beyond U+FFFF",
            {"char": _names(found.group()), "at": found.start()},
        )
    if (found := control.search(value)) is not None:
        raise PydanticCustomError(
            "control_character",
            "contains the control character {char} at character {at}; remove it{allowed}",
            {"char": _names(found.group()), "at": found.start(), "allowed": allowed},
        )
    return value


def _text(value: str) -> str:
    return _check(value, _CONTROL_IN_TEXT, " (tab and line breaks are fine)")


def _plain(value: str) -> str:
    return _check(value, _CONTROL, "")


Text = Annotated[str, AfterValidator(_text)]
Plain = Annotated[str, AfterValidator(_plain)]
AccountId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_plain)
]
