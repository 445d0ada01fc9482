"""`POST /api/v1/publish/{linkedin,twitter,meta,threads,multi}`: publish now, to one platform or
many.

Every route parses its body and runs the same use case (herald.publish_now): check every account
and every content rule at once (one 422 listing all problems, nothing stored), store the post,
then publish all targets concurrently. The answer is 200 when all published, 207 with per-target
results when some failed, 502 when every one failed on the platform side, 202 when the worker
publishes it (large media).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from herald.accounts import PlatformName
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.fields import MAX_ID_LENGTH, AccountId, Plain, Text
from herald.api.idempotent import idempotent
from herald.api.ratelimit import RateLimit
from herald.api.routes.posts import PUBLISH_RESPONSES, IdempotencyKey, post_response
from herald.auth import Principal
from herald.container import Container
from herald.idempotency import Taken
from herald.media.model import MediaRef
from herald.platforms.base import Content, MediaItem
from herald.publish_now import publish_now
from herald.variants import Variant

router = APIRouter(tags=["publish"], dependencies=[RateLimit("publish")])

AccountIds = Annotated[list[AccountId], Field(min_length=1, max_length=20)]


class MediaIn(BaseModel):
    """One file of the post: `media_id` (the media library's, with optional `alt_text` and,
    for a thread on X, the `part` it goes with), or `url` and `kind` (Threads fetches it)."""

    model_config = ConfigDict(extra="forbid")

    media_id: Plain | None = Field(
        None, pattern=r"^media_[0-9a-z]{26}$", description="a file of `POST /api/v1/media`"
    )
    alt_text: Text | None = Field(
        None, max_length=5000, description="what the image shows, for screen readers"
    )
    part: int = Field(
        0, ge=0, le=24, description="the thread's part (tweet) it goes with, from 0 (X)"
    )
    url: str | None = Field(
        None, max_length=2048, description="fetched by the platform: a public http(s) URL"
    )
    kind: Literal["image", "video"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.media_id is None) == (self.url is None):
            raise PydanticCustomError(
                "media.source", "give either media_id (an uploaded file) or url, not both"
            )
        if self.url is not None and (self.alt_text is not None or self.part):
            raise PydanticCustomError(
                "media.source", "alt_text and part go with media_id, not with url"
            )
        if self.media_id is not None and self.kind is not None:
            raise PydanticCustomError(
                "media.source", "kind goes with url: an uploaded file's kind is read from it"
            )
        return self

    def item(self) -> MediaItem:
        assert self.url is not None
        return MediaItem(self.url, self.kind or "image")

    def ref(self) -> MediaRef:
        assert self.media_id is not None
        return MediaRef(self.media_id, self.alt_text or None, self.part)


def _one_kind_of_source(value: list[MediaIn] | None) -> list[MediaIn] | None:
    if value and len({m.media_id is None for m in value}) > 1:
        raise PydanticCustomError(
            "media.mixed_sources",
            "media holds uploaded files (media_id) or URLs (url), not both in one post",
        )
    return value


MediaList = Annotated[
    list[MediaIn] | None,
    Field(
        max_length=40,
        description="Uploaded files of the media library (`media_id`, `alt_text`, `part`), "
        "checked against each platform's limits (docs/media.md); or, for Threads only, files by "
        "`url`: one image or video, or 2 to 20 of them as a carousel (after `image_url` when "
        "both are given).",
    ),
    AfterValidator(_one_kind_of_source),
]


ThreadParts = list[Annotated[Text, Field(max_length=5000)]]
FirstComment = Annotated[
    Text | None,
    Field(
        max_length=10_000,
        description="Published right after the post: a comment on LinkedIn, Facebook and "
        "Instagram, a reply on X and Threads (to a thread's last part). Its outcome is its own "
        "(`targets[].first_comment`); it never fails the post.",
    ),
]

_PLATFORM_KEY = "platform:(linkedin|x|facebook|instagram|threads)"
VariantKey = Annotated[
    Plain,
    StringConstraints(pattern=f"^({_PLATFORM_KEY}|account:.{{1,{MAX_ID_LENGTH}}})$"),
]


class VariantIn(BaseModel):
    """What one platform (`platform:x`) or one account (`account:<id>`) publishes instead of
    the shared content: only the fields named here; null takes a field away (no image)."""

    model_config = ConfigDict(extra="forbid")

    text: Text | None = Field(None, max_length=70_000)
    thread: ThreadParts | None = Field(None, min_length=1, max_length=25)
    image_url: Plain | None = Field(None, max_length=2048)
    link: Plain | None = Field(None, max_length=2048)
    media: MediaList = None
    first_comment: FirstComment = None

    def variant(self) -> Variant:
        values: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "text":
                value = value or ""
            elif name == "thread":
                value = tuple(value or ())
            elif name == "media":
                value = tuple(m.item() for m in value or ())
            values[name] = value
        return Variant(values)


Variants = Annotated[
    dict[VariantKey, VariantIn] | None,
    Field(
        max_length=25,
        description="Per-target overrides of the shared content, by `platform:<name>` or "
        "`account:<account id>`: an account's fields win over its platform's, which win over "
        "the shared ones.",
    ),
]


def variants_of(variants: dict[str, VariantIn] | None) -> dict[str, Variant]:
    return {key: v.variant() for key, v in (variants or {}).items() if v.model_fields_set}


class _PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_ids: AccountIds
    text: Text = Field("", max_length=70_000)
    image_url: Plain | None = Field(None, max_length=2048)
    link: Plain | None = Field(
        None,
        max_length=2048,
        description="A Facebook Page post's link attachment; the other platforms take links in "
        "the text, so a post with no Facebook Page among its targets is refused with one.",
    )

    media: MediaList = None
    first_comment: FirstComment = None
    variants: Variants = None
    story: bool = Field(
        False,
        description="Instagram: publish the one uploaded file (`media`) as a Story rather than "
        "a feed post or Reel. The other platforms ignore it.",
    )

    @field_validator("account_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each account may appear once")
        return value

    def media_items(self) -> tuple[MediaItem, ...]:
        return tuple(m.item() for m in self.media or () if m.url is not None)

    def media_refs(self) -> tuple[MediaRef, ...]:
        return tuple(m.ref() for m in self.media or () if m.media_id is not None)

    def content(self) -> Content:
        return Content(
            text=self.text,
            image_url=self.image_url,
            link=self.link,
            media=self.media_items(),
            first_comment=self.first_comment,
            variants=variants_of(self.variants),
            story=self.story,
        )


class LinkedInPublish(_PublishBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"account_ids": ["acc_linkedin_member"], "text": "We open at 7 tomorrow (yes, 7)."}
            ]
        }
    )


class _ThreadBody(_PublishBody):
    thread: ThreadParts | None = Field(
        None,
        min_length=1,
        max_length=25,
        description="Posts published as a reply chain on X and Threads; replaces `text` when "
        "given.",
    )

    def content(self) -> Content:
        return Content(
            text=self.text,
            thread=tuple(self.thread or ()),
            image_url=self.image_url,
            link=self.link,
            media=self.media_items(),
            first_comment=self.first_comment,
            variants=variants_of(self.variants),
            story=self.story,
        )


class TwitterPublish(_ThreadBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"account_ids": ["acc_x"], "text": "Fresh sourdough at 7."},
                {"account_ids": ["acc_x"], "thread": ["1/3 Our story", "2/3 ...", "3/3 ..."]},
            ]
        }
    )


class MetaPublish(_PublishBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_ids": ["acc_facebook_page", "acc_instagram"],
                    "text": "New loaves today #bakery",
                    "image_url": "https://cdn.example.com/loaf.jpg",
                }
            ]
        }
    )


class ThreadsPublish(_ThreadBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"account_ids": ["acc_threads"], "text": "Fresh sourdough at 7."},
                {
                    "account_ids": ["acc_threads"],
                    "thread": ["How we bake, a thread", "1. The starter", "2. The oven"],
                },
                {
                    "account_ids": ["acc_threads"],
                    "text": "This morning's bake",
                    "media": [
                        {"url": "https://cdn.example.com/loaf.jpg", "kind": "image"},
                        {"url": "https://cdn.example.com/oven.mp4", "kind": "video"},
                    ],
                },
            ]
        }
    )


class MultiPublish(_ThreadBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_ids": ["acc_linkedin", "acc_x", "acc_facebook", "acc_instagram"],
                    "text": "We open a second shop on Friday!",
                    "image_url": "https://cdn.example.com/shop.jpg",
                }
            ]
        }
    )


_ANY: frozenset[PlatformName] = frozenset({"linkedin", "x", "facebook", "instagram", "threads"})


@router.post(
    "/publish/linkedin",
    summary="Publish to LinkedIn members and organisations",
    responses=PUBLISH_RESPONSES,
    response_model=None,
)
async def publish_linkedin(
    body: LinkedInPublish,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _run(container, principal, request, idempotency_key, body, {"linkedin"})


@router.post(
    "/publish/twitter",
    summary="Publish a tweet or a thread to X",
    responses=PUBLISH_RESPONSES,
    response_model=None,
)
async def publish_twitter(
    body: TwitterPublish,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _run(container, principal, request, idempotency_key, body, {"x"})


@router.post(
    "/publish/meta",
    summary="Publish to Facebook Pages and/or Instagram accounts",
    responses=PUBLISH_RESPONSES,
    response_model=None,
)
async def publish_meta(
    body: MetaPublish,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    platforms: set[PlatformName] = {"facebook", "instagram"}
    return await _run(container, principal, request, idempotency_key, body, platforms)


@router.post(
    "/publish/threads",
    summary="Publish a post, a carousel or a reply chain to Threads",
    responses=PUBLISH_RESPONSES,
    response_model=None,
)
async def publish_threads(
    body: ThreadsPublish,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _run(container, principal, request, idempotency_key, body, {"threads"})


@router.post(
    "/publish/multi",
    summary="Publish to any set of connected accounts at once",
    responses=PUBLISH_RESPONSES,
    response_model=None,
)
async def publish_multi(
    body: MultiPublish,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _run(container, principal, request, idempotency_key, body, set(_ANY))


async def _run(
    container: Container,
    principal: Principal,
    request: Request,
    key: str | None,
    body: _PublishBody,
    allowed: set[PlatformName],
) -> Response:
    async def produce(taken: Taken) -> Response:
        answer = await publish_now(
            container.publish_now_ports,
            principal.business_id,
            body.account_ids,
            body.content(),
            allowed,
            known=principal.accounts,
            post_id=taken.bound_id,
            resumed=taken.resumed,
            refs=body.media_refs(),
        )
        # Handed to the worker (large media): 202, the post still `publishing`.
        return post_response(answer.post, status=202 if answer.handed_off else None)

    return await idempotent(container, principal.business_id, key, request, produce)
