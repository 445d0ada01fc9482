"""`GET /api/v1/posts/{id}` and `POST /api/v1/posts/{id}/retry` (the use case: herald.retry_post),
and the post's shape in every answer that returns one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.idempotent import idempotent
from herald.api.ratelimit import RateLimit
from herald.idempotency import Taken
from herald.posts import Comment, Post
from herald.publishing_policy import http_status
from herald.retry_post import retry_post as retry
from herald.store.post_items import variant_to_item

router = APIRouter(tags=["posts"])

PostId = Annotated[str, Path(pattern=r"^post_[0-9a-z]{26}$", examples=["post_01jfz..."])]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="The same key and body within 24 h returns the first response.",
    ),
]


class MediaOut(BaseModel):
    url: str
    kind: Literal["image", "video"]


class AttachmentOut(BaseModel):
    """A media library file on the post, with the facts read from it."""

    media_id: str
    kind: Literal["image", "gif", "video", "document"]
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    pages: int | None = None
    alt_text: str | None = None
    part: int = 0


class ContentOut(BaseModel):
    text: str
    thread: list[str] = Field(default_factory=list)
    image_url: str | None = None
    link: str | None = None
    media: list[MediaOut] = Field(default_factory=list)
    first_comment: str | None = None
    variants: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="What each platform (`platform:x`) or account (`account:<id>`) publishes "
        "instead of the shared fields; only the fields it overrides.",
    )

    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="uploaded files (`media[].media_id` in requests)"
    )


class CommentOut(BaseModel):
    """A target's first comment: its own outcome, apart from the post's."""

    status: str
    attempts: int
    platform_comment_id: str | None = None
    last_error: str | None = None
    error_kind: str | None = None
    published_at: str | None = None

    @classmethod
    def of(cls, comment: Comment | None) -> CommentOut | None:
        if comment is None:
            return None
        return cls(
            status=comment.status.value,
            attempts=comment.attempts,
            platform_comment_id=comment.platform_comment_id,
            last_error=comment.last_error,
            error_kind=comment.error_kind,
            published_at=comment.published_at,
        )


class TargetOut(BaseModel):
    account_id: str
    platform: str
    status: str
    attempts: int
    platform_post_id: str | None = None
    url: str | None = None
    part_ids: list[str] = Field(default_factory=list)
    last_error: str | None = None
    error_kind: str | None = None
    published_at: str | None = None
    first_comment: CommentOut | None = None
    processing_since: str | None = Field(
        None, description="while `processing`: since when the platform is processing its media"
    )


class PostOut(BaseModel):
    post_id: str
    status: str
    content: ContentOut
    targets: list[TargetOut]
    created_at: str
    updated_at: str
    scheduled_for: str | None = None
    published_at: str | None = None
    status_reason: str | None = None

    @classmethod
    def of(cls, post: Post) -> PostOut:
        return cls(
            post_id=post.post_id,
            status=post.status.value,
            content=ContentOut(
                text=post.content.text,
                thread=list(post.content.thread),
                image_url=post.content.image_url,
                link=post.content.link,
                media=[MediaOut(url=m.url, kind=m.kind) for m in post.content.media],
                first_comment=post.content.first_comment,
                variants={k: variant_to_item(v) for k, v in post.content.variants.items()},
                attachments=[
                    AttachmentOut(
                        media_id=a.media_id,
                        kind=a.kind,
                        content_type=a.content_type,
                        size=a.size,
                        width=a.facts.width,
                        height=a.facts.height,
                        duration_seconds=a.facts.duration_seconds,
                        pages=a.facts.pages,
                        alt_text=a.alt_text,
                        part=a.part,
                    )
                    for a in post.content.attachments
                ],
            ),
            targets=[
                TargetOut(
                    account_id=t.account_id,
                    platform=t.platform,
                    status=t.status.value,
                    attempts=t.attempts,
                    platform_post_id=t.platform_post_id,
                    url=t.url,
                    part_ids=list(t.part_ids),
                    last_error=t.last_error,
                    error_kind=t.error_kind,
                    published_at=t.published_at,
                    first_comment=CommentOut.of(t.comment),
                    processing_since=t.processing_since,
                )
                for t in post.targets.values()
            ],
            created_at=post.created_at,
            updated_at=post.updated_at,
            scheduled_for=post.scheduled_for,
            published_at=post.published_at,
            status_reason=post.status_reason,
        )


def post_response(post: Post, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        PostOut.of(post).model_dump(mode="json"),
        status_code=status if status is not None else http_status(post),
        headers={"Location": f"/api/v1/posts/{post.post_id}"},
    )


PUBLISH_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": PostOut, "description": "Every target published."},
    202: {"model": PostOut, "description": "Another run still holds a target."},
    207: {"model": PostOut, "description": "Some targets failed: see each target's status."},
    502: {"model": PostOut, "description": "Every target failed on the platform side."},
}


@router.get(
    "/posts/{post_id}",
    response_model=PostOut,
    summary="A post with each target's status, attempts, platform id, URL and last error",
    dependencies=[RateLimit("default")],
)
async def get_post(post_id: PostId, principal: PrincipalDep, container: ContainerDep) -> PostOut:
    post = await run_in_threadpool(container.posts.get, principal.business_id, post_id)
    return PostOut.of(post)


@router.post(
    "/posts/{post_id}/retry",
    summary="Retry a post's failed targets (published and unconfirmed ones are left alone)",
    responses=PUBLISH_RESPONSES,
    response_model=None,
    dependencies=[RateLimit("publish")],
)
async def retry_post(
    post_id: PostId,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def produce(taken: Taken) -> Response:
        post = await retry(
            container.retry_ports, principal.business_id, post_id, resumed=taken.resumed
        )
        return post_response(post)

    return await idempotent(container, principal.business_id, idempotency_key, request, produce)
