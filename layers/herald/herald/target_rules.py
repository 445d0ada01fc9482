"""The content rules of a whole post: its shared content and its variants, checked for every
target on what that target would publish (herald.variants).

A post without variants is checked exactly as herald.content_rules has always checked it. With
variants each target's resolved content is checked on its own, and a problem is named after the
field it came from:

    acc_x.text                     the shared text, too long for the X account acc_x
    variants.platform:x.text       X's own text, too long (for acc_x, said in `target`)
    variants.account:acc_li.link   acc_li's own link, not an http(s) URL

The rules about the post as a whole become rules about each value: a `text`, `thread` or `link`
(shared or a variant's) that no target would publish is refused, so nothing written is silently
dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from herald import content_rules, variants
from herald.errors import FieldError

if TYPE_CHECKING:
    from herald.accounts import PlatformName
    from herald.platforms.base import Content
    from herald.settings import Settings

Targets = Sequence[tuple[str, "PlatformName"]]


def validate_post(content: Content, targets: Targets, settings: Settings) -> list[FieldError]:
    """Every rule `content` breaks for these (account id, platform) targets, at once."""
    problems = _unknown_variants(content, list(targets))
    if not content.variants:
        problems += content_rules.validate(content, targets, settings)
    else:
        problems += _per_target(content, targets, settings)
        problems += _unused_values(content, targets)
    problems += _comment_problems(content, targets, settings)
    return _unique(problems)


def field_name(content: Content, account_id: str, platform: PlatformName, name: str) -> str:
    """Where a problem with `name` (`text`, `thread[2]`, `media[0].url`) of this target's
    content is reported: on the variant that set it, else on the target's shared field."""
    root = name.split("[", 1)[0].split(".", 1)[0]
    key = variants.source(content, account_id, platform, root)
    if key == variants.SHARED:
        return f"{account_id}.{name}"
    return f"variants.{key}.{name}"


def _unknown_variants(
    content: Content, targets: list[tuple[str, PlatformName]]
) -> list[FieldError]:
    return [
        FieldError(f"variants.{key}", why, "unknown_target")
        for key, why in variants.unknown_keys(content, targets)
    ]


def _per_target(content: Content, targets: Targets, settings: Settings) -> list[FieldError]:
    out: list[FieldError] = []
    for account_id, platform in targets:
        resolved = variants.resolve(content, account_id, platform)
        for problem in content_rules.target_problems(resolved, account_id, platform, settings):
            name = problem.field.removeprefix(f"{account_id}.")
            field = field_name(content, account_id, platform, name)
            target = account_id if field.startswith("variants.") else None
            out.append(FieldError(field, problem.message, problem.code, target))
    return out


def _unused_values(content: Content, targets: Targets) -> list[FieldError]:
    """A variant's text, thread or link that none of its targets publishes is refused: it was
    written for them. The shared content is the post's master copy: every target may replace a
    shared field, and it is refused only where no target could publish it at all (no X or
    Threads account for a thread, no Facebook Page or Threads account for a link)."""
    used: set[tuple[str, str]] = set()
    for account_id, platform in targets:
        resolved = variants.resolve(content, account_id, platform)
        chained = platform in content_rules.CHAINED
        takes = {
            "text": not (chained and resolved.thread),
            "thread": chained,
            "link": platform in content_rules.LINKED,
        }
        for name, taken in takes.items():
            if taken:
                used.add((variants.source(content, account_id, platform, name), name))
                # A target that would publish the shared field and has its own uses it too.
                used.add((variants.SHARED, name))
    unknown = {key for key, _ in variants.unknown_keys(content, list(targets))}
    out: list[FieldError] = []
    sources = [(variants.SHARED, content.text, content.thread, content.link)] + [
        (key, v.values.get("text"), v.values.get("thread"), v.values.get("link"))
        for key, v in content.variants.items()
        if key not in unknown
    ]
    for key, text, thread, link in sources:
        prefix = f"variants.{key}." if key else ""
        if text and text.strip() and (key, "text") not in used:
            why = (
                "no target publishes this text: the X and Threads accounts it reaches publish "
                "their `thread`, and every other target has a text of its own"
            )
            out.append(FieldError(prefix + "text", why, "text_unused"))
        if thread and (key, "thread") not in used:
            why = (
                "only X and Threads publish a thread, and none of them publishes this one: send "
                "it to an X or Threads account, or put the post in `text`"
            )
            out.append(FieldError(prefix + "thread", why, "thread_needs_x"))
        if link is not None and (key, "link") not in used:
            why = "only a Facebook Page or Threads post has a link field: put the URL in the text"
            out.append(FieldError(prefix + "link", why, "no_facebook_target"))
    return out


def _comment_problems(content: Content, targets: Targets, settings: Settings) -> list[FieldError]:
    """The first comment each target would publish, on that target's platform's rules."""
    from herald.comments import comment_problems

    out: list[FieldError] = []
    for account_id, platform in targets:
        text = variants.resolve(content, account_id, platform).first_comment
        if text is None:
            continue
        field = field_name(content, account_id, platform, "first_comment")
        for message, code in comment_problems(text, platform, settings):
            out.append(FieldError(field, message, code, account_id))
    return out


def _unique(problems: list[FieldError]) -> list[FieldError]:
    """A platform variant's problem is found once per account on the platform: said once."""
    seen: set[tuple[str, str, str]] = set()
    out: list[FieldError] = []
    for problem in problems:
        key = (problem.field, problem.message, problem.code)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out
