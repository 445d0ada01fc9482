"""Content rules, checked before any platform is called; every problem is reported at once.

Limits are the platforms' own, counted the way each platform counts:

| platform  | text                                   | other                                    |
|-----------|----------------------------------------|------------------------------------------|
| X         | 280 per tweet, twitter-text weighted   | (URLs 23, CJK and emoji 2)               |
| LinkedIn  | 3,000 UTF-16 code units of commentary  |                                          |
| Facebook  | 63,206 characters                      |                                          |
| Instagram | 2,200 characters of caption            | an image; at most `hashtag_limit` tags   |
| all       | not empty; at most `mention_limit` @mentions per post (per tweet on X)    |

A thread is X's alone (a reply chain of tweets): sent to no X account it is refused with what to
do instead, and `text` beside a thread that only X accounts receive would be silently dropped, so
it is refused too. Control characters and lone surrogates are the API's check (herald.api.fields),
for every string of a request.

The hashtag cap applies to Instagram only: it is the one platform that refuses a post over it
(30, then 5 from late 2025). LinkedIn, X and Facebook accept any number, and refusing what the
platform would publish would only block a person for a style preference.

Unknown accounts and accounts in `needs_reauth` are the publishing engine's check, not this one.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from herald.addresses import literal_host_is_private
from herald.errors import FieldError

if TYPE_CHECKING:
    from herald.accounts import PlatformName
    from herald.platforms.base import Content
    from herald.settings import Settings

X_MAX_WEIGHT = 280
LINKEDIN_MAX = 3_000
FACEBOOK_MAX = 63_206
INSTAGRAM_CAPTION_MAX = 2_200

# `&` and `#` before the sign: `&#39;` is an HTML entity and `##` is not a tag.
_HASHTAG = re.compile(r"(?<![\w&#])#\w+")
# An e-mail address is not a mention: the sign must not follow a word character.
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+")


@cache
def _parse_tweet() -> Callable[[str], object]:
    """twitter-text's parser, loaded on first use (it compiles a large emoji pattern).

    twitter-text-parser 3.0.0 reads its emoji table through `pkg_resources`, which is not in the
    Lambda runtime or in current setuptools. A stand-in offering the one function it calls is
    installed just for the import and removed right after, so nothing else can see it.
    """
    if "twitter_text" not in sys.modules and "pkg_resources" not in sys.modules:
        import importlib.resources  # 25 ms at import: paid here, only when X is a target

        stand_in = types.ModuleType("pkg_resources")

        def resource_string(package: str, name: str) -> bytes:
            return importlib.resources.files(package).joinpath(name).read_bytes()

        stand_in.resource_string = resource_string  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = stand_in
        try:
            from twitter_text import parse_tweet
        finally:
            del sys.modules["pkg_resources"]
    else:
        from twitter_text import parse_tweet
    parser: Callable[[str], object] = parse_tweet
    return parser


def tweet_weight(text: str) -> int:
    """X's weighted length (twitter-text v3 configuration)."""
    return int(getattr(_parse_tweet()(text), "weightedLength"))  # noqa: B009


def invalid_tweet_characters(text: str) -> list[str]:
    """The characters twitter-text counts invalid in a tweet (U+FFFE, U+FEFF, U+FFFF), as
    U+XXXX; X refuses a tweet holding one."""
    _parse_tweet()  # twitter_text imported the way that works in Lambda
    from twitter_text.regexp.invalid_chars import invalid_chars

    return sorted({f"U+{ord(c):04X}" for c in invalid_chars.findall(text)})


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def count_hashtags(text: str) -> int:
    return len(_HASHTAG.findall(text))


def count_mentions(text: str) -> int:
    return len(_MENTION.findall(text))


def _name(label: str, field: str) -> str:
    return f"{label}.{field}" if label else field


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port out of range
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0


def validate(
    content: Content, platforms: Sequence[tuple[str, PlatformName]], settings: Settings
) -> list[FieldError]:
    """Every rule broken by `content` for each (target label, platform), in target order, then
    those of the post as a whole."""
    problems: list[FieldError] = []
    for label, platform in platforms:
        problems.extend(_for_target(content, label, platform, settings))
    problems.extend(_thread_rules(content, [p for _, p in platforms]))
    if content.link is not None and platforms and all(p != "facebook" for _, p in platforms):
        # Only a Facebook Page post has a link of its own: accepted and dropped, it would vanish
        # from the post without a word.
        why = "only a Facebook Page post has a link field: put the URL in the text"
        problems.append(FieldError("link", why, "no_facebook_target"))
    return problems


def _for_target(
    content: Content, label: str, platform: PlatformName, settings: Settings
) -> list[FieldError]:
    out: list[FieldError] = []
    text = content.text
    if content.image_url is not None and not _is_web_url(content.image_url):
        out.append(FieldError(_name(label, "image_url"), "must be an http(s) URL", "invalid_url"))
    elif (
        content.image_url is not None
        and not settings.image_private_hosts
        and literal_host_is_private(content.image_url)
    ):
        why = "must be on a public host, not localhost or a private address"
        out.append(FieldError(_name(label, "image_url"), why, "private_host"))
    if content.link is not None and not _is_web_url(content.link):
        out.append(FieldError(_name(label, "link"), "must be an http(s) URL", "invalid_url"))

    if platform == "x":
        out.extend(_x_rules(content, label, settings))
        return out

    # On Instagram the image is the post (a caption is optional): its own rule below says so.
    has_body = text.strip() or content.image_url or (platform == "facebook" and content.link)
    if not has_body and platform != "instagram":
        why = "the post is empty"
        if content.thread:
            why += f": {platform} publishes `text`, not `thread` (a thread is for X only)"
        out.append(FieldError(_name(label, "text"), why, "empty"))
    if platform == "linkedin" and utf16_length(text) > LINKEDIN_MAX:
        out.append(_too_long(label, "text", utf16_length(text), LINKEDIN_MAX, "LinkedIn"))
    elif platform == "facebook" and len(text) > FACEBOOK_MAX:
        out.append(_too_long(label, "text", len(text), FACEBOOK_MAX, "Facebook"))
    elif platform == "instagram":
        if len(text) > INSTAGRAM_CAPTION_MAX:
            out.append(_too_long(label, "text", len(text), INSTAGRAM_CAPTION_MAX, "Instagram"))
        if not content.image_url:
            out.append(
                FieldError(_name(label, "image_url"), "Instagram needs an image", "required")
            )
        tags = count_hashtags(text)
        if tags > settings.hashtag_limit:
            out.append(
                FieldError(
                    _name(label, "text"),
                    f"{tags} hashtags; Instagram allows at most {settings.hashtag_limit}",
                    "too_many_hashtags",
                )
            )
    mentions = count_mentions(text)
    if mentions > settings.mention_limit:
        out.append(_too_many_mentions(_name(label, "text"), mentions, settings.mention_limit))
    return out


def _thread_rules(content: Content, platforms: list[PlatformName]) -> list[FieldError]:
    if not content.thread or not platforms:
        return []
    others = list(dict.fromkeys(p for p in platforms if p != "x"))
    if len(others) == len(set(platforms)):  # no X account at all
        names = ", ".join(others[:-1]) + " and " + others[-1] if len(others) > 1 else others[0]
        why = (
            f"only X publishes a thread; {names} publish one post: send the post as `text`, or "
            "send the thread to X accounts"
        )
        return [FieldError("thread", why, "thread_needs_x")]
    if not others and content.text.strip():
        why = (
            "X accounts publish the thread, and no other target takes `text`, so it would never "
            "be published: put it in the thread, or send only one of them"
        )
        return [FieldError("text", why, "text_unused")]
    return []


def _x_rules(content: Content, label: str, settings: Settings) -> list[FieldError]:
    out: list[FieldError] = []
    if content.thread:
        fields = [_name(label, f"thread[{i}]") for i in range(len(content.thread))]
        parts = list(content.thread)
    else:
        fields, parts = [_name(label, "text")], [content.text]
    for index, (field, part) in enumerate(zip(fields, parts, strict=True)):
        # A tweet may be an image alone, but only the first tweet carries the image.
        if not part.strip() and not (index == 0 and content.image_url):
            out.append(FieldError(field, "the tweet is empty", "empty"))
            continue
        invalid = invalid_tweet_characters(part)
        if invalid:
            why = f"contains {', '.join(invalid)}, which X refuses (twitter-text counts it invalid)"
            out.append(FieldError(field, why, "invalid_character"))
        weight = tweet_weight(part)
        if weight > X_MAX_WEIGHT:
            out.append(
                FieldError(
                    field,
                    f"{weight} weighted characters; X allows {X_MAX_WEIGHT} "
                    "(URLs count 23, CJK and emoji 2)",
                    "too_long",
                )
            )
        mentions = count_mentions(part)
        if mentions > settings.mention_limit:
            out.append(_too_many_mentions(field, mentions, settings.mention_limit))
    return out


def _too_long(label: str, field: str, length: int, limit: int, platform: str) -> FieldError:
    return FieldError(
        _name(label, field), f"{length} characters; {platform} allows {limit}", "too_long"
    )


def _too_many_mentions(field: str, count: int, limit: int) -> FieldError:
    return FieldError(field, f"{count} mentions; at most {limit} are allowed", "too_many_mentions")
