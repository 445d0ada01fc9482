"""`POST /api/v1/publish/{linkedin,twitter,meta,threads,multi}`: publish now, to one platform or
many.

Every route runs the same steps: check every account and every content rule at once (one 422
listing all problems, nothing stored), write the post and its targets to DynamoDB, then publish
all targets concurrently. The answer is 200 when all published, 207 with per-target results when
some failed, 502 when every one failed on the platform side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
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
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald import target_rules
from herald.accounts import Account, AccountStatus, PlatformName
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.fields import MAX_ID_LENGTH, AccountId, Plain, Text
from herald.api.idempotent import idempotent
from herald.api.ratelimit import RateLimit
from herald.api.routes.posts import PUBLISH_RESPONSES, IdempotencyKey, post_response
from herald.auth import Principal
from herald.clock import isoformat
from herald.container import Container
from herald.errors import FieldError, InvalidInput, NotFound
from herald.idempotency import Taken
from herald.ids import new_id
from herald.media import limits as media_limits
from herald.media.model import MediaRef
from herald.media_checks import instagram_image_problems
from herald.observability import logger
from herald.platforms.base import Content, MediaItem
from herald.posts import Post, PostStatus, Target
from herald.variants import Variant
from herald.variants import resolve as resolve_variants

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
        return await publish_now(
            container,
            principal.business_id,
            body.account_ids,
            body.content(),
            allowed,
            known=principal.accounts,
            post_id=taken.bound_id,
            resumed=taken.resumed,
            refs=body.media_refs(),
        )

    return await idempotent(container, principal.business_id, key, request, produce)


async def publish_now(
    container: Container,
    business_id: str,
    account_ids: list[str],
    content: Content,
    allowed: set[PlatformName],
    *,
    known: Mapping[str, Account] | None = None,
    post_id: str | None = None,
    resumed: bool = False,
    refs: Sequence[MediaRef] = (),
) -> Response:
    """`known`: accounts already read (with the API key); the others are read here. The engine
    publishes with these same accounts rather than reading each again. `post_id`: the id to
    create the post under (its Idempotency-Key's); with `resumed`, an earlier request with the
    key may have created it already, and that post is resumed instead. `refs`: the media
    library's files the post attaches, resolved (and read, if nobody has yet) here."""
    from herald.publishing import publish_post
    from herald.tokens import credentials_from

    post_id = post_id or new_id("post")
    if resumed and (earlier := await _earlier(container, business_id, post_id)) is not None:
        return await _resume(container, earlier)
    accounts = await run_in_threadpool(
        _load_accounts, container, business_id, account_ids, known or {}
    )
    problems = _account_problems(account_ids, accounts, allowed)
    usable = [
        (a.account_id, a.platform)
        for a in accounts.values()
        if a is not None and a.platform in allowed
    ]
    if refs:
        attachments, media_problems = await run_in_threadpool(
            container.media.resolve, business_id, refs
        )
        content = replace(content, attachments=attachments)
        problems += media_problems
    problems += target_rules.validate_post(content, usable, container.settings)
    for label in usable:  # each target's own files (its variant's, else the shared ones)
        mine = resolve_variants(content, *label)
        problems += media_limits.check(mine.attachments, [label], len(mine.parts), story=mine.story)
    problems += await instagram_image_problems(content, usable, container.image_probe, problems)
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) with this post", problems)
    now = isoformat(container.clock.now())
    post = Post(
        post_id=post_id,
        business_id=business_id,
        status=PostStatus.PUBLISHING,
        content=content,
        targets={
            a.account_id: Target(account_id=a.account_id, platform=a.platform)
            for a in accounts.values()
            if a is not None
        },
        created_at=now,
        updated_at=now,
    ).with_comments()
    # Stored before any platform call: if this function dies, the post and its claims remain.
    await run_in_threadpool(container.posts.create, post)
    if content.attachments:
        await run_in_threadpool(container.media.mark_used, content.attachments)
        if sum(a.size for a in content.attachments) > container.settings.media_inline_max_bytes:
            # Large files go up from the worker, not inside this request: 202, `publishing`.
            # If SQS refuses, this request publishes them itself rather than leave the post.
            try:
                await _check_again(container, post, 0)
            except Exception:  # noqa: BLE001
                logger.warning("could not hand a large post to the worker; publishing it here")
            else:
                return post_response(post, status=202)
    outcome = await publish_post(
        container,
        business_id,
        post.post_id,
        retry_in_process=True,
        account_ids=list(post.targets),
        credentials=credentials_from(
            {(business_id, a.account_id): a for a in accounts.values() if a is not None}
        ),
    )
    assert outcome.post is not None
    if outcome.check_again_in is not None:
        await _check_again(container, outcome.post, outcome.check_again_in)
    return post_response(outcome.post)


async def _check_again(container: Container, post: Post, after: float) -> None:
    """A platform is processing a target's media: the worker finishes the post, from a message
    due when the platform said to look again. If SQS refuses, the post stays `publishing` with
    that target `processing`, and a retry (`POST /posts/{id}/retry`) picks it up."""
    from herald.media.processing import delay_seconds, send_again

    await run_in_threadpool(
        partial(
            send_again,
            container.publish_queue,
            post.business_id,
            post.post_id,
            delay=delay_seconds(after),
            account_ids=list(post.targets),
        )
    )


async def _earlier(container: Container, business_id: str, post_id: str) -> Post | None:
    try:
        post: Post = await run_in_threadpool(container.posts.get, business_id, post_id)
    except NotFound:
        return None  # the earlier request ended before storing it
    return post


async def _resume(container: Container, post: Post) -> Response:
    """The post an earlier request with the same Idempotency-Key created and did not answer
    for (it died, or a target was still held): the engine picks up what is left. A target that
    request claimed is skipped while its claim is live (the answer is then a 202 with the post)
    and taken over and reconciled once stale, so nothing is published a second time; a post
    that finished is answered as it finished."""
    from herald.publishing import publish_post

    outcome = await publish_post(container, post.business_id, post.post_id, retry_in_process=True)
    assert outcome.post is not None
    return post_response(outcome.post)


def _load_accounts(
    container: Container,
    business_id: str,
    account_ids: list[str],
    known: Mapping[str, Account],
) -> dict[str, Account | None]:
    missing = [a for a in account_ids if a not in known]
    # One request for the ones authentication did not read (another business's account is
    # simply not found under this business's key).
    found = container.accounts.get_many((business_id, a) for a in missing) if missing else {}
    return {a: known.get(a) or found.get((business_id, a)) for a in account_ids}


def _account_problems(
    account_ids: list[str], accounts: dict[str, Account | None], allowed: set[PlatformName]
) -> list[FieldError]:
    problems: list[FieldError] = []
    for index, account_id in enumerate(account_ids):
        field = f"account_ids[{index}]"
        account = accounts[account_id]
        if account is None:
            problems.append(FieldError(field, f"unknown account {account_id}", "unknown_account"))
        elif account.platform not in allowed:
            names = ", ".join(sorted(allowed))
            problems.append(
                FieldError(
                    field,
                    f"{account_id} is a {account.platform} account; this route takes {names}",
                    "wrong_platform",
                )
            )
        elif account.status == AccountStatus.NEEDS_REAUTH:
            problems.append(
                FieldError(
                    field,
                    f"{account_id} must be reconnected before it can publish",
                    "needs_reauth",
                )
            )
    return problems
