"""Each platform's media limits, checked when a post is made or edited: one 422 field error per
broken rule, with a code naming the rule (docs/api.md lists them).

    media.unsupported_for_platform  the platform takes no media of this kind (a PDF on X)
    media.unsupported_type          it takes the kind, not this format (WebP on LinkedIn)
    media.too_many                  more files of a kind than one post (or tweet) takes
    media.mixed                     a kind that must be alone shares the post (a video and images)
    media.too_large                 the file is over the platform's size for its kind
    media.too_small                 under the platform's minimum size (LinkedIn video)
    media.too_long / media.too_short   a video's duration outside the platform's range
    media.dimensions                pixel size or aspect ratio outside the platform's range
    media.too_many_pages            a document with more pages than the platform takes
    media.alt_text_too_long         alt text over the platform's length
    media.part_out_of_range         `part` names no part of the post (a thread's tweet)
    media.duplicate                 the same file twice in one post

The figures, from each platform's documentation (checked on the date of the commit):
- X: https://docs.x.com/x-api/media/quickstart/best-practices ("up to 4 photos, 1 animated GIF
  or 1 video in a Post"; images JPG, PNG, GIF, WEBP <= 5 MB; animated GIF <= 15 MB; Post video
  0.5 s to 20 minutes and <= 8 GB for a default account; video dimensions from 32x32 and an
  aspect ratio between 1:3 and 3:1). Alt text: https://docs.x.com/x-api/media/create-media-
  metadata (`POST /2/media/metadata`, `metadata.alt_text.text`); its length (at most 1,000
  characters) and "images and GIFs only" are from the v1.1 reference it replaced,
  https://developer.x.com/en/docs/media/upload-media/api-reference/post-media-metadata-create.
- LinkedIn: Images API https://learn.microsoft.com/linkedin/marketing/community-management/
  shares/images-api (JPG, GIF, PNG; at most 36,152,320 pixels; a GIF up to 250 frames), Videos
  API .../shares/videos-api (MP4, 3 s to 30 minutes, 75 KB to 500 MB), Documents API
  .../shares/documents-api (PDF, PPT(X), DOC(X); 100 MB, 300 pages), MultiImage API
  .../shares/multiimage-post-api (2 to 20 images), Posts API .../shares/posts-api (an image's
  `altText`, at most 4,086 characters).
- Facebook Pages: photos per the Photo reference
  https://developers.facebook.com/docs/graph-api/reference/photo/ (under 10 MB; `alt_text_custom`)
  posted together through `attached_media` (https://developers.facebook.com/docs/graph-api/
  photo-uploads: unpublished photos, then one feed post); Meta documents no most photos per
  post, so 10 is Herald's own cap. Video per https://developers.facebook.com/docs/graph-api/
  video-uploads (resumable: up to 10 GB and 4 hours; aspect ratio 9x16 to 16x9).
- Instagram: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/
  reference/ig-user/media (images JPEG only, at most 8 MB, aspect ratio 4:5 to 1.91:1; Reels
  MP4/MOV up to 300 MB lasting 3 s to 15 minutes, aspect ratio 0.01:1 to 10:1; Story video up
  to 100 MB, 3 to 60 s) and https://developers.facebook.com/docs/instagram-platform/content-
  publishing/ (carousels of up to 10 images and videos; `alt_text` for images only, "Reels and
  stories are not supported"). No length is documented for `alt_text`: Herald caps it at 1,000.
- Threads: https://developers.facebook.com/documentation/threads/posts (carousels of 2 to 20
  items, media specifications: images JPEG or PNG up to 8 MB and an aspect ratio up to 10:1;
  video MOV or MP4 up to 1 GB and 300 s, aspect ratio 0.01:1 to 10:1; `alt_text` up to 1,000
  characters). Each part of a thread (a reply chain) carries its own media.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from herald.accounts import PlatformName
from herald.errors import FieldError
from herald.media.model import Attachment, MediaKind

KB, MB, GB = 1000, 1000 * 1000, 1000 * 1000 * 1000  # the platforms write MB, and mean 10^6
MIB = 1024 * 1024


@dataclass(frozen=True)
class KindRule:
    content_types: frozenset[str]
    max_size: int
    per_post: int  # how many of this kind one post (one tweet) takes
    alone: bool = False  # nothing else may share the post
    min_size: int = 0
    min_duration_ms: int | None = None
    max_duration_ms: int | None = None
    min_side: int | None = None  # pixels, both sides
    max_pixels: int | None = None
    ratio: tuple[float, float] | None = None  # width/height, inclusive
    max_pages: int | None = None
    alt_text: bool = True  # the platform takes alt text for this kind


@dataclass(frozen=True)
class PlatformRules:
    name: str  # as a person reads it
    kinds: dict[MediaKind, KindRule] = field(default_factory=dict)
    alt_text_max: int = 0
    per_part: bool = False  # each part of a thread carries its own media (X)
    max_total: int | None = None  # all kinds together, per post (per tweet)


_X_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
RULES: dict[PlatformName, PlatformRules] = {
    "x": PlatformRules(
        "X",
        {
            "image": KindRule(_X_IMAGES, 5 * MB, 4),
            # A still GIF is an image to X (tweet_image); only a moving one is tweet_gif.
            "gif": KindRule(frozenset({"image/gif"}), 15 * MB, 1, alone=True),
            "video": KindRule(
                frozenset({"video/mp4", "video/quicktime"}),
                8 * GB,
                1,
                alone=True,
                min_duration_ms=500,
                max_duration_ms=20 * 60 * 1000,
                min_side=32,
                ratio=(1 / 3, 3.0),
                # Media metadata's alt text is documented for images and GIFs only.
                alt_text=False,
            ),
        },
        alt_text_max=1000,
        per_part=True,
        max_total=4,
    ),
    "linkedin": PlatformRules(
        "LinkedIn",
        {
            "image": KindRule(
                frozenset({"image/jpeg", "image/png", "image/gif"}),
                # The Images API gives a pixel limit, no byte limit; Herald's own cap applies.
                1 * GB,
                20,
                max_pixels=36_152_320,
            ),
            "video": KindRule(
                frozenset({"video/mp4"}),
                500 * MB,
                1,
                alone=True,
                min_size=75 * KB,
                min_duration_ms=3000,
                max_duration_ms=30 * 60 * 1000,
                alt_text=False,
            ),
            "document": KindRule(
                frozenset({"application/pdf"}),
                100 * MB,
                1,
                alone=True,
                max_pages=300,
                alt_text=False,
            ),
        },
        alt_text_max=4086,
        max_total=20,
    ),
}
_MP4_MOV = frozenset({"video/mp4", "video/quicktime"})
RULES["facebook"] = PlatformRules(
    "Facebook",
    {
        "image": KindRule(
            frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}), 10 * MB, 10
        ),
        "video": KindRule(
            _MP4_MOV,
            10 * GB,
            1,
            alone=True,
            max_duration_ms=4 * 3600 * 1000,
            ratio=(9 / 16, 16 / 9),
            alt_text=False,
        ),
    },
    alt_text_max=1000,
    max_total=10,
)
RULES["instagram"] = PlatformRules(
    "Instagram",
    {
        "image": KindRule(frozenset({"image/jpeg"}), 8 * MB, 10, ratio=(4 / 5, 1.91)),
        # A video alone is a Reel; beside images it is a carousel item.
        "video": KindRule(
            _MP4_MOV,
            300 * MB,
            10,
            min_duration_ms=3000,
            max_duration_ms=15 * 60 * 1000,
            ratio=(0.01, 10.0),
            alt_text=False,
        ),
    },
    alt_text_max=1000,
    max_total=10,
)
# An Instagram Story (a post's `story: true`): one image or one video, no alt text.
STORY_RULES = PlatformRules(
    "Instagram Stories",
    {
        "image": KindRule(frozenset({"image/jpeg"}), 8 * MB, 1, alt_text=False),
        "video": KindRule(
            _MP4_MOV,
            100 * MB,
            1,
            min_duration_ms=3000,
            max_duration_ms=60 * 1000,
            ratio=(0.01, 10.0),
            alt_text=False,
        ),
    },
    alt_text_max=0,
    max_total=1,
)
RULES["threads"] = PlatformRules(
    "Threads",
    {
        "image": KindRule(frozenset({"image/jpeg", "image/png"}), 8 * MB, 20, ratio=(0.1, 10.0)),
        "video": KindRule(_MP4_MOV, 1 * GB, 20, max_duration_ms=300 * 1000, ratio=(0.01, 10.0)),
    },
    alt_text_max=1000,
    per_part=True,
    max_total=20,
)

# LinkedIn shows a GIF as an image (the Images API takes GIFs of up to 250 frames).
RULES["linkedin"].kinds["gif"] = KindRule(
    frozenset({"image/gif"}), 1 * GB, 20, max_pixels=36_152_320
)


def _name(label: str, index: int, attr: str = "") -> str:
    field_name = f"media[{index}]{'.' + attr if attr else ''}"
    return f"{label}.{field_name}" if label else field_name


def _size(n: int) -> str:
    return f"{n / GB:g} GB" if n >= GB else f"{n / MB:g} MB" if n >= MB else f"{n / KB:g} KB"


def _seconds(ms: int) -> str:
    return f"{ms / 60000:g} minutes" if ms >= 60000 else f"{ms / 1000:g} s"


def check(
    attachments: Sequence[Attachment],
    targets: Sequence[tuple[str, PlatformName]],
    parts: int = 1,
    *,
    story: bool = False,
) -> list[FieldError]:
    """Every rule the post's media breaks, for each (target label, platform). `parts`: how many
    parts the post has (the tweets of a thread); `story`: Instagram publishes it as a Story."""
    if not attachments:
        return []
    out: list[FieldError] = []
    for label, platform in targets:
        out.extend(_for_platform(attachments, label, platform, parts, story))
    return out


def _for_platform(
    attachments: Sequence[Attachment],
    label: str,
    platform: PlatformName,
    parts: int,
    story: bool = False,
) -> list[FieldError]:
    rules = STORY_RULES if story and platform == "instagram" else RULES.get(platform)
    if rules is None:
        why = f"{platform} does not publish uploaded media yet; use image_url or media[].url"
        return [FieldError(_name(label, 0), why, "media.unsupported_for_platform")]
    out: list[FieldError] = []
    by_part: dict[int, list[tuple[int, Attachment]]] = {}
    for index, item in enumerate(attachments):
        part = item.part if rules.per_part else 0
        if item.part and not rules.per_part:
            why = f"{rules.name} publishes one post: its media cannot go with part {item.part}"
            out.append(FieldError(_name(label, index, "part"), why, "media.part_out_of_range"))
        elif part >= parts:
            why = f"part {part} does not exist: the thread has {parts} part(s), counted from 0"
            out.append(FieldError(_name(label, index, "part"), why, "media.part_out_of_range"))
        by_part.setdefault(part, []).append((index, item))
        out.extend(_file_rules(rules, label, index, item))
    for items in by_part.values():
        out.extend(_post_rules(rules, label, items))
    return out


def _file_rules(rules: PlatformRules, label: str, index: int, item: Attachment) -> list[FieldError]:
    facts, name, media = item.facts, rules.name, item.media_id
    kind = _effective(rules, item)
    rule = rules.kinds.get(kind)
    field_name = _name(label, index)
    words = _kind_words(kind)
    if rule is None:
        why = f"{name} does not publish {words} ({media})"
        return [FieldError(field_name, why, "media.unsupported_for_platform")]
    out: list[FieldError] = []

    def refuse(code: str, why: str, attr: str = "") -> None:
        out.append(FieldError(_name(label, index, attr) if attr else field_name, why, code))

    if facts.content_type not in rule.content_types:
        takes = ", ".join(sorted(t.split("/")[-1].upper() for t in rule.content_types))
        refuse("media.unsupported_type", f"{name} takes {takes} for {words}; {media} is "
               f"{facts.content_type}")  # fmt: skip
    size = _size(facts.size)
    if facts.size > rule.max_size:
        refuse("media.too_large", f"{name} takes {words} up to {_size(rule.max_size)}; {media} "
               f"is {size}")  # fmt: skip
    if facts.size < rule.min_size:
        refuse("media.too_small", f"{name} takes {words} from {_size(rule.min_size)}; {media} "
               f"is {size}")  # fmt: skip
    lasts = facts.duration_ms
    if lasts is not None and rule.max_duration_ms is not None and lasts > rule.max_duration_ms:
        refuse("media.too_long", f"{name} takes videos up to {_seconds(rule.max_duration_ms)}; "
               f"{media} lasts {_seconds(lasts)}")  # fmt: skip
    if lasts is not None and rule.min_duration_ms is not None and lasts < rule.min_duration_ms:
        refuse("media.too_short", f"{name} takes videos from {_seconds(rule.min_duration_ms)}; "
               f"{media} lasts {_seconds(lasts)}")  # fmt: skip
    dimensions = _dimensions(rule, name, item)
    if dimensions:
        refuse("media.dimensions", dimensions)
    if rule.max_pages is not None and facts.pages is not None and facts.pages > rule.max_pages:
        refuse("media.too_many_pages", f"{name} takes documents of up to {rule.max_pages} "
               f"pages; {media} has {facts.pages}")  # fmt: skip
    alt = item.alt_text or ""
    if alt and not rule.alt_text:
        refuse("media.alt_text_unsupported", f"{name} shows no alt text on {words}: leave it "
               "out", "alt_text")  # fmt: skip
    elif len(alt) > rules.alt_text_max:
        refuse("media.alt_text_too_long", f"{len(alt)} characters; {name} takes alt text of up "
               f"to {rules.alt_text_max}", "alt_text")  # fmt: skip
    return out


def _dimensions(rule: KindRule, name: str, item: Attachment) -> str | None:
    width, height = item.facts.width, item.facts.height
    if not width or not height:
        return None
    shown = f"{item.media_id} is {width}x{height}"
    if rule.min_side is not None and min(width, height) < rule.min_side:
        return f"{name} takes at least {rule.min_side}x{rule.min_side} pixels; {shown}"
    if rule.max_pixels is not None and width * height > rule.max_pixels:
        return f"{name} takes at most {rule.max_pixels:,} pixels; {shown}"
    if rule.ratio is not None and not rule.ratio[0] <= width / height <= rule.ratio[1]:
        low, high = rule.ratio
        return f"{name} takes an aspect ratio from {_ratio(low)} to {_ratio(high)}; {shown}"
    return None


def _ratio(value: float) -> str:
    return f"1:{1 / value:g}" if value < 1 else f"{value:g}:1"


def _post_rules(
    rules: PlatformRules, label: str, items: list[tuple[int, Attachment]]
) -> list[FieldError]:
    out: list[FieldError] = []
    where = (
        ("a tweet" if rules.name == "X" else "a part of the thread") if rules.per_part else "a post"
    )
    seen: set[str] = set()
    for index, item in items:
        if item.media_id in seen:
            why = f"{item.media_id} is attached twice to {where}"
            out.append(FieldError(_name(label, index), why, "media.duplicate"))
        seen.add(item.media_id)
    kinds = [_effective(rules, item) for _, item in items]
    first = items[0][0]
    for kind in dict.fromkeys(kinds):
        rule = rules.kinds.get(kind)
        if rule is None:
            continue  # already said, file by file
        count = kinds.count(kind)
        if rule.alone and len(items) > 1:
            why = f"{rules.name} takes {_kind_words(kind)} alone in {where}: nothing else beside it"
            out.append(FieldError(_name(label, first), why, "media.mixed"))
        elif count > rule.per_post:
            most = f"{rules.name} takes at most {rule.per_post} in {where}"
            why = f"{count} {_kind_words(kind)}; {most}"
            out.append(FieldError(_name(label, first), why, "media.too_many"))
    if rules.max_total is not None and len(items) > rules.max_total and not out:
        why = f"{len(items)} files; {rules.name} takes at most {rules.max_total} in {where}"
        out.append(FieldError(_name(label, first), why, "media.too_many"))
    return out


def _effective(rules: PlatformRules, item: Attachment) -> MediaKind:
    if item.facts.kind == "gif" and not item.facts.animated and "image" in rules.kinds:
        return "image"
    return item.facts.kind


def _kind_words(kind: MediaKind) -> str:
    return {"image": "images", "gif": "animated GIFs", "video": "videos", "document": "documents"}[
        kind
    ]
