"""The post item as DynamoDB stores it, and back: the post, its targets (a map by account id),
each target's first comment, and the content with its variants.

    pk=BUSINESS#<biz>  sk=POST#<post_id>  cal_pk=BUSINESS#<biz>  cal_sk=<time>#<post_id>
    status, version, content{...}, targets{<account_id>: {status, attempts, claimed_at, ...}}

Nothing here talks to DynamoDB or imports boto3: the tick's import path reaches this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from herald.media.model import Attachment
from herald.platforms.base import Content, MediaItem
from herald.posts.model import Comment, Post, PostStatus, Target, TargetStatus
from herald.store.table import business_pk, post_sk
from herald.variants import Variant

_COMMENT_OPTIONAL = (
    "platform_comment_id",
    "last_error",
    "error_kind",
    "claimed_at",
    "published_at",
)
_TARGET_OPTIONAL = (
    "platform_post_id",
    "url",
    "last_error",
    "error_kind",
    "claimed_at",
    "published_at",
    "media_state",
    "processing_since",
)


def calendar_sk(post: Post) -> str:
    return f"{post.scheduled_for or post.created_at}#{post.post_id}"


def post_to_item(post: Post) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": business_pk(post.business_id),
        "sk": post_sk(post.post_id),
        "type": "post",
        "post_id": post.post_id,
        "business_id": post.business_id,
        "status": post.status.value,
        "content": content_to_item(post.content),
        "targets": {acc: target_to_item(t) for acc, t in post.targets.items()},
        "created_at": post.created_at,
        "updated_at": post.updated_at or post.created_at,
        "version": post.version,
        "cal_pk": business_pk(post.business_id),
        "cal_sk": calendar_sk(post),
    }
    for name in ("scheduled_for", "timezone", "published_at", "status_reason"):
        value = getattr(post, name)
        if value is not None:
            item[name] = value
    return item


def post_from_item(item: Mapping[str, Any]) -> Post:
    return Post(
        post_id=item["post_id"],
        business_id=item["business_id"],
        status=PostStatus(item["status"]),
        content=content_from_item(item.get("content", {})),
        targets={acc: target_from_item(t) for acc, t in item.get("targets", {}).items()},
        created_at=item.get("created_at", ""),
        updated_at=item.get("updated_at", ""),
        scheduled_for=item.get("scheduled_for"),
        timezone=item.get("timezone"),
        published_at=item.get("published_at"),
        status_reason=item.get("status_reason"),
        version=int(item.get("version", 0)),
    )


def comment_to_item(comment: Comment) -> dict[str, Any]:
    item: dict[str, Any] = {"status": comment.status.value, "attempts": comment.attempts}
    for name in _COMMENT_OPTIONAL:
        value = getattr(comment, name)
        if value is not None:
            item[name] = value
    return item


def comment_from_item(item: Mapping[str, Any]) -> Comment:
    return Comment(
        status=TargetStatus(item["status"]),
        attempts=int(item.get("attempts", 0)),
        platform_comment_id=item.get("platform_comment_id"),
        last_error=item.get("last_error"),
        error_kind=item.get("error_kind"),
        claimed_at=item.get("claimed_at"),
        published_at=item.get("published_at"),
    )


def target_to_item(target: Target) -> dict[str, Any]:
    item: dict[str, Any] = {
        "account_id": target.account_id,
        "platform": target.platform,
        "status": target.status.value,
        "attempts": target.attempts,
        "part_ids": list(target.part_ids),
    }
    for name in _TARGET_OPTIONAL:
        value = getattr(target, name)
        if value is not None:
            item[name] = value
    if target.comment is not None:
        item["comment"] = comment_to_item(target.comment)
    return item


def target_from_item(item: Mapping[str, Any]) -> Target:
    return Target(
        account_id=item["account_id"],
        platform=item["platform"],
        status=TargetStatus(item["status"]),
        attempts=int(item.get("attempts", 0)),
        platform_post_id=item.get("platform_post_id"),
        url=item.get("url"),
        part_ids=tuple(item.get("part_ids", ())),
        last_error=item.get("last_error"),
        error_kind=item.get("error_kind"),
        claimed_at=item.get("claimed_at"),
        published_at=item.get("published_at"),
        comment=comment_from_item(item["comment"]) if item.get("comment") else None,
        media_state=_plain(item.get("media_state")),
        processing_since=item.get("processing_since"),
    )


def _plain(value: Any) -> Any:
    """DynamoDB's numbers come back as Decimal: the publishers' state holds ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def content_to_item(content: Content) -> dict[str, Any]:
    item = _fields_to_item(
        {
            "text": content.text,
            "thread": content.thread,
            "image_url": content.image_url,
            "link": content.link,
            "media": content.media,
            "first_comment": content.first_comment,
            "attachments": content.attachments,
            "story": content.story,
        }
    )
    item.setdefault("text", "")
    item.setdefault("thread", [])
    if content.variants:
        item["variants"] = {key: variant_to_item(v) for key, v in content.variants.items()}
    return item


def variant_to_item(variant: Variant) -> dict[str, Any]:
    """A variant's fields as stored and as the API shows them (a null is an override too)."""
    return _fields_to_item(variant.values, keep_null=True)


def content_from_item(item: dict[str, Any]) -> Content:
    return Content(
        text=item.get("text", ""),
        thread=tuple(item.get("thread", ())),
        image_url=item.get("image_url"),
        link=item.get("link"),
        media=_media_from_item(item.get("media", ())),
        first_comment=item.get("first_comment"),
        attachments=_attachments_from_item(item.get("attachments", ())),
        story=bool(item.get("story", False)),
        variants={
            key: Variant(_fields_from_item(values))
            for key, values in (item.get("variants") or {}).items()
        },
    )


def _media_to_item(media: tuple[MediaItem, ...]) -> list[dict[str, Any]]:
    return [{"url": m.url, "kind": m.kind} for m in media]


def _media_from_item(items: Any) -> tuple[MediaItem, ...]:
    return tuple(MediaItem(m["url"], m.get("kind", "image")) for m in items or ())


def _attachments_from_item(items: Any) -> tuple[Attachment, ...]:
    return tuple(Attachment.from_item(_plain(a)) for a in items or ())


def _fields_to_item(values: Mapping[str, Any], *, keep_null: bool = False) -> dict[str, Any]:
    """Content fields as stored. The shared content leaves out what it does not have; a
    variant keeps a null, which is an override of its own (no image, no first comment)."""
    item: dict[str, Any] = {}
    for name, value in values.items():
        if name == "thread":
            item[name] = list(value or ())
        elif name == "media":
            item[name] = _media_to_item(value or ())
        elif name == "attachments":
            item[name] = [a.to_item() for a in value or ()]
        else:
            item[name] = value
    if keep_null:
        return item
    return {k: v for k, v in item.items() if v or k == "text"}


def _fields_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in item.items():
        if name == "thread":
            values[name] = tuple(value or ())
        elif name == "media":
            values[name] = _media_from_item(value)
        elif name == "attachments":
            values[name] = _attachments_from_item(value)
        elif name == "story":
            values[name] = bool(value)
        elif name == "text":
            values[name] = value or ""
        else:
            values[name] = value
    return values
