"""Per-target content: a post's shared content, and what its platforms and accounts override.

    content.variants = {
        "platform:x":        Variant(text="Doors at 7 #sourdough"),
        "account:acc_li_co": Variant(text="We open our second shop on Friday.", first_comment=None),
    }

A target's content is the shared content with its platform's variant laid over it, then its
account's: account > platform > shared, field by field. A variant sets only the fields it names;
a field it sets to null (`image_url: null`, `first_comment: null`) takes that field away for
its targets. Every publisher, rule and preview works on the resolved content, which carries no
variants of its own.

`source` says where each field of a target's content came from, so a rule broken by an
override is reported on the override (`variants.platform:x.text`), not on the shared text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from herald.accounts import PlatformName
    from herald.platforms.base import Content

# What a variant may override: every field of the content but the variants themselves.
OVERRIDABLE = (
    "text",
    "thread",
    "image_url",
    "link",
    "media",
    "attachments",
    "story",
    "first_comment",
)
PLATFORM_PREFIX = "platform:"
ACCOUNT_PREFIX = "account:"
SHARED = ""  # the source of a field no variant overrides


@dataclass(frozen=True)
class Variant:
    """The fields one platform or account overrides, by name (only those it sets)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(OVERRIDABLE)
        if unknown:
            raise ValueError(f"a variant cannot override {sorted(unknown)}")


def platform_key(platform: str) -> str:
    return PLATFORM_PREFIX + platform


def account_key(account_id: str) -> str:
    return ACCOUNT_PREFIX + account_id


def _keys(account_id: str, platform: PlatformName) -> tuple[str, str]:
    """The variants that apply to a target, weakest first."""
    return platform_key(platform), account_key(account_id)


def resolve(content: Content, account_id: str, platform: PlatformName) -> Content:
    """What `account_id` (on `platform`) publishes: the shared content, its platform's
    overrides, then its own."""
    if not content.variants:
        return content
    merged: dict[str, Any] = {}
    for key in _keys(account_id, platform):
        variant = content.variants.get(key)
        if variant is not None:
            merged.update(variant.values)
    return replace(content, **merged, variants={})


def source(content: Content, account_id: str, platform: PlatformName, name: str) -> str:
    """The variant key `name` comes from for this target, or SHARED."""
    found = SHARED
    for key in _keys(account_id, platform):
        variant = content.variants.get(key)
        if variant is not None and name in variant.values:
            found = key
    return found


def unknown_keys(
    content: Content, targets: list[tuple[str, PlatformName]]
) -> list[tuple[str, str]]:
    """(key, why) for each variant no target of the post would use: an account that is not a
    target, or a platform none of its accounts is on."""
    accounts = {a for a, _ in targets}
    platforms = {p for _, p in targets}
    out: list[tuple[str, str]] = []
    for key in content.variants:
        if key.startswith(ACCOUNT_PREFIX) and key.removeprefix(ACCOUNT_PREFIX) not in accounts:
            out.append((key, "this account is not one of the post's account_ids"))
        elif key.startswith(PLATFORM_PREFIX) and key.removeprefix(PLATFORM_PREFIX) not in platforms:
            name = key.removeprefix(PLATFORM_PREFIX)
            out.append((key, f"no account of the post is on {name}: no target would use it"))
    return out


def content_field_names() -> tuple[str, ...]:
    """The content's own fields (a check that OVERRIDABLE keeps up with Content)."""
    from herald.platforms.base import Content

    return tuple(f.name for f in fields(Content) if f.name != "variants")
