"""Content rules, checked before any platform is called; every problem is reported at once.

Limits are the platforms' own, counted the way each platform counts:

| platform  | text                                   | other                                    |
|-----------|----------------------------------------|------------------------------------------|
| X         | 280 per tweet, twitter-text weighted   | (URLs 23, CJK and emoji 2)               |
| LinkedIn  | 3,000 UTF-16 code units of commentary  |                                          |
| Facebook  | 63,206 characters                      |                                          |
| Instagram | 2,200 characters of caption            | an image; at most `hashtag_limit` tags   |
| Threads   | 500 per post of a chain, emoji as bytes | 5 distinct links; 1 to 20 media          |
| all       | not empty; at most `mention_limit` @mentions per post (per tweet on X)    |

A thread is a reply chain, published by X and Threads alone: sent to neither it is refused with
what to do instead, and `text` beside a thread that only they receive would be silently dropped,
so it is refused too. Control characters and lone surrogates are the API's check
(herald.api.fields), for every string of a request.

The hashtag cap applies to Instagram only: it is the one platform that refuses a post over it
(30, then 5 from late 2025). LinkedIn, X and Facebook accept any number, and refusing what the
platform would publish would only block a person for a style preference.

Threads counts characters with its emoji as their UTF-8 bytes and refuses a post with more than
five distinct links (https://developers.facebook.com/documentation/threads/posts and
.../threads/create-posts/text-attachments); `media` (video, carousels) is published on Threads only.

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
THREADS_MAX = 500
THREADS_LINKS_MAX = 5
THREADS_MEDIA_MAX = 20  # a carousel takes 2 to 20 images and videos; one is a post of its own

# `&` and `#` before the sign: `&#39;` is an HTML entity and `##` is not a tag.
_HASHTAG = re.compile(r"(?<![\w&#])#\w+")
# An e-mail address is not a mention: the sign must not follow a word character.
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+")
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)


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


def _is_emoji(code_point: int) -> bool:
    # Pictographs, symbols and dingbats, and the joiners, selectors, keycaps and tags that build
    # emoji sequences: each counts its UTF-8 bytes on Threads (the dashboard counts the same).
    return (
        0x1F000 <= code_point <= 0x1FAFF
        or 0x2600 <= code_point <= 0x27BF
        or 0x2300 <= code_point <= 0x23FF
        or 0x2B00 <= code_point <= 0x2BFF
        or 0xE0020 <= code_point <= 0xE007F
        or code_point in (0x200D, 0xFE0F, 0x20E3)
    )


def threads_length(text: str) -> int:
    """Threads' length: a character each, an emoji's code points as their UTF-8 bytes."""
    return sum(len(c.encode("utf-8")) if _is_emoji(ord(c)) else 1 for c in text)


def threads_links(text: str, link: str | None = None) -> int:
    """Distinct links as Threads counts them: each URL in the text once, an attached link once
    more unless the text has it."""
    found = {u.rstrip(".,;:!?)") for u in _URL.findall(text)}
    if link:
        found.add(link)
    return len(found)


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
    if content.link is not None and platforms and all(p not in _LINKED for _, p in platforms):
        # Only a Facebook Page post and a Threads post have a link of their own: accepted and
        # dropped, it would vanish from the post without a word.
        why = "only a Facebook Page or Threads post has a link field: put the URL in the text"
        problems.append(FieldError("link", why, "no_facebook_target"))
    return problems


LINKED: tuple[PlatformName, ...] = ("facebook", "threads")
_LINKED = LINKED


def target_problems(
    content: Content, label: str, platform: PlatformName, settings: Settings
) -> list[FieldError]:
    """The rules one target's content breaks, its fields named `label.field` (herald.target_rules
    checks each target of a post with variants this way)."""
    return _for_target(content, label, platform, settings)


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
    for index, item in enumerate(content.media):
        field = _name(label, f"media[{index}].url")
        if not _is_web_url(item.url):
            out.append(FieldError(field, "must be an http(s) URL", "invalid_url"))
        elif not settings.image_private_hosts and literal_host_is_private(item.url):
            why = "must be on a public host, not localhost or a private address"
            out.append(FieldError(field, why, "private_host"))

    if platform == "threads":
        out.extend(_threads_rules(content, label, settings))
        return out
    if content.media:
        why = "only Threads publishes videos and carousels; use image_url for one image"
        out.append(FieldError(_name(label, "media"), why, "unsupported"))

    if platform == "x":
        out.extend(_x_rules(content, label, settings))
        return out

    # On Instagram the image is the post (a caption is optional): its own rule below says so.
    has_body = (
        text.strip()
        or content.image_url
        or content.attachments
        or (platform == "facebook" and content.link)
    )
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
        if not content.image_url and not content.attachments:
            out.append(
                FieldError(_name(label, "image_url"), "Instagram needs an image", "required")
            )
        if content.story and not content.attachments:
            why = "an Instagram Story is one uploaded file: attach it in `media` (media_id)"
            out.append(FieldError(_name(label, "story"), why, "story_needs_media"))
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


# The platforms that publish a `thread` as a reply chain; every other one publishes one post.
_CHAINED: tuple[PlatformName, ...] = ("x", "threads")
CHAINED = _CHAINED


def _thread_rules(content: Content, platforms: list[PlatformName]) -> list[FieldError]:
    if not content.thread or not platforms:
        return []
    others = list(dict.fromkeys(p for p in platforms if p not in _CHAINED))
    if len(others) == len(set(platforms)):  # no X or Threads account at all
        names = ", ".join(others[:-1]) + " and " + others[-1] if len(others) > 1 else others[0]
        why = (
            f"only X and Threads publish a thread; {names} publish one post: send the post as "
            "`text`, or send the thread to X or Threads accounts"
        )
        return [FieldError("thread", why, "thread_needs_x")]
    if not others and content.text.strip():
        why = (
            "X and Threads accounts publish the thread, and no other target takes `text`, so it "
            "would never be published: put it in the thread, or send only one of them"
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
        # A tweet may be media alone: the first tweet carries image_url, and each tweet its
        # own attachments.
        if not part.strip() and not (
            (index == 0 and content.image_url) or content.attachments_of(index)
        ):
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


def _threads_rules(content: Content, label: str, settings: Settings) -> list[FieldError]:
    out: list[FieldError] = []
    if content.thread:
        fields = [_name(label, f"thread[{i}]") for i in range(len(content.thread))]
        parts = list(content.thread)
    else:
        fields, parts = [_name(label, "text")], [content.text]
    media = len(content.media) + (1 if content.image_url else 0)
    for index, (field, part) in enumerate(zip(fields, parts, strict=True)):
        # The first post carries the media (text is optional beside it); replies are text.
        if not part.strip() and not (index == 0 and media):
            out.append(FieldError(field, "the post is empty", "empty"))
            continue
        length = threads_length(part)
        if length > THREADS_MAX:
            why = f"{length} characters; Threads allows {THREADS_MAX} (an emoji counts its bytes)"
            out.append(FieldError(field, why, "too_long"))
        links = threads_links(part, content.link if index == 0 else None)
        if links > THREADS_LINKS_MAX:
            why = f"{links} distinct links; Threads allows {THREADS_LINKS_MAX} per post"
            out.append(FieldError(field, why, "too_many_links"))
        mentions = count_mentions(part)
        if mentions > settings.mention_limit:
            out.append(_too_many_mentions(field, mentions, settings.mention_limit))
    if media > THREADS_MEDIA_MAX:
        why = f"{media} images and videos; a Threads carousel takes at most {THREADS_MEDIA_MAX}"
        out.append(FieldError(_name(label, "media"), why, "too_many_media"))
    if content.link is not None and media:
        why = "Threads attaches a link only to a post without images or videos"
        out.append(FieldError(_name(label, "link"), why, "link_with_media"))
    return out


def _too_long(label: str, field: str, length: int, limit: int, platform: str) -> FieldError:
    return FieldError(
        _name(label, field), f"{length} characters; {platform} allows {limit}", "too_long"
    )


def _too_many_mentions(field: str, count: int, limit: int) -> FieldError:
    return FieldError(field, f"{count} mentions; at most {limit} are allowed", "too_many_mentions")
