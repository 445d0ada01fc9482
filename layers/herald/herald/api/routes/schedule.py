"""Scheduling: create, list (the calendar), reschedule or edit, and cancel scheduled posts.

POST   /api/v1/schedule                  201  a pending post
GET    /api/v1/schedule/{business_id}    200  a page of the calendar (another business: 404)
PUT    /api/v1/schedule/{post_id}        200  until the worker claims it (pending, queued), else 409
DELETE /api/v1/schedule/{post_id}        200  until the worker claims it (pending, queued), else 409
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald import scheduled_posts
from herald.accounts import PlatformName
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.fields import AccountId, Plain, Text
from herald.api.idempotent import idempotent
from herald.api.ratelimit import RateLimit
from herald.api.routes.posts import IdempotencyKey, PostId, PostOut
from herald.api.routes.publish import (
    FirstComment,
    MediaList,
    MultiPublish,
    ThreadParts,
    Variants,
    variants_of,
)
from herald.clock import parse_iso
from herald.errors import FieldError, InvalidInput, NotFound
from herald.idempotency import Taken
from herald.posts import Post, PostStatus
from herald.timezones import to_utc

router = APIRouter(tags=["schedule"])

_WHEN = "ISO 8601 with an offset, or a local wall time together with `timezone`"
_FOLD = "for a local time that happens twice (DST fall-back): 0 the first, 1 the second"


class ScheduleIn(MultiPublish):
    """What an immediate publish takes (`account_ids`, `text`, `thread`, `image_url`, `link`,
    `media`), plus when."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_ids": ["acc_linkedin", "acc_x"],
                    "text": "Fresh sourdough at 9!",
                    "scheduled_for": "2026-12-01T09:00:00",
                    "timezone": "Europe/Paris",
                },
                {
                    "account_ids": ["acc_x"],
                    "text": "Doors open.",
                    "scheduled_for": "2026-12-01T08:00:00Z",
                },
            ]
        },
    )

    scheduled_for: Plain = Field(description=_WHEN, max_length=64)
    timezone: Plain | None = Field(None, description="IANA zone, e.g. Europe/Paris", max_length=64)
    fold: Literal[0, 1] | None = Field(None, description=_FOLD)


class RescheduleIn(BaseModel):
    """Any subset: a new time, new accounts, or new content fields (the others are kept)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"account_ids": ["acc_linkedin", "acc_x"]},
                {"scheduled_for": "2026-12-01T09:00:00", "timezone": "Europe/Paris"},
                {"text": "Fresh sourdough at 9, not 8!"},
                {"variants": {"platform:x": {"text": "Sourdough at 9 #bread"}}},
            ]
        },
    )

    scheduled_for: Plain | None = Field(None, description=_WHEN, max_length=64)
    timezone: Plain | None = Field(None, max_length=64)
    fold: Literal[0, 1] | None = None
    account_ids: list[AccountId] | None = Field(None, min_length=1, max_length=20)
    text: Text | None = Field(None, max_length=70_000)
    thread: ThreadParts | None = Field(None, max_length=25)
    image_url: Plain | None = Field(None, max_length=2048)
    link: Plain | None = Field(None, max_length=2048)
    media: MediaList = None
    first_comment: FirstComment = None
    variants: Variants = Field(
        None,
        description="Replaces the post's variants as a whole (send `{}` to drop them all).",
    )

    @field_validator("account_ids")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each account may appear once")
        return value

    def content_changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in ("text", "image_url", "link", "first_comment"):
            if name in self.model_fields_set:
                changes[name] = getattr(self, name)
        if "thread" in self.model_fields_set:
            changes["thread"] = tuple(self.thread or ())
        if "media" in self.model_fields_set:
            # URLs (Threads) and uploaded files alike: `media` replaces both.
            items = self.media or []
            changes["media"] = tuple(m.item() for m in items if m.url is not None)
            changes["media_refs"] = tuple(m.ref() for m in items if m.media_id is not None)
        if "variants" in self.model_fields_set:
            changes["variants"] = variants_of(self.variants)
        if changes.get("text") is None and "text" in changes:
            changes["text"] = ""
        return changes


class ScheduledPostOut(PostOut):
    timezone: str | None = None
    scheduled_for_local: str | None = Field(None, description="scheduled_for in `timezone`")
    version: int = 0

    @classmethod
    def of(cls, post: Post) -> ScheduledPostOut:
        local = None
        if post.scheduled_for and post.timezone:
            local = parse_iso(post.scheduled_for).astimezone(ZoneInfo(post.timezone)).isoformat()
        return cls(
            **PostOut.of(post).model_dump(),
            timezone=post.timezone,
            scheduled_for_local=local,
            version=post.version,
        )


class CalendarPage(BaseModel):
    items: list[ScheduledPostOut]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{name} is not an ISO 8601 date-time", [FieldError(name, "invalid")]
        ) from exc
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} needs an offset", [FieldError(name, "needs an offset")])
    return to_utc(parsed, name)


@router.post(
    "/schedule",
    status_code=201,
    response_model=ScheduledPostOut,
    summary="Schedule a post",
    dependencies=[RateLimit("publish")],
)
async def create_schedule(
    body: ScheduleIn,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    when = scheduled_posts.When(body.scheduled_for, body.timezone, body.fold)

    async def produce(taken: Taken) -> Response:
        post = await run_in_threadpool(
            partial(
                scheduled_posts.schedule,
                post_id=taken.bound_id,
                resumed=taken.resumed,
                refs=body.media_refs(),
            ),
            container.scheduling_ports,
            principal.business_id,
            body.content(),
            body.account_ids,
            when,
            principal.accounts,
        )
        return JSONResponse(
            ScheduledPostOut.of(post).model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"/api/v1/posts/{post.post_id}"},
        )

    return await idempotent(container, principal.business_id, idempotency_key, request, produce)


@router.get(
    "/schedule/{business_id}",
    response_model=CalendarPage,
    summary="The business's calendar: its posts by scheduled time",
    dependencies=[RateLimit("default")],
)
async def list_schedule(
    business_id: str,
    principal: PrincipalDep,
    container: ContainerDep,
    status: Annotated[
        list[PostStatus] | None,
        # Each status once at most: a longer list could only repeat one, and DynamoDB's IN
        # takes 100 values (past that a ValidationException, not the client's 422).
        Query(max_length=len(PostStatus), description="repeatable; each status once"),
    ] = None,
    platform: PlatformName | None = None,
    from_: Annotated[str | None, Query(alias="from", description="ISO 8601 with offset")] = None,
    to: Annotated[str | None, Query(description="ISO 8601 with offset, inclusive")] = None,
    order: Annotated[
        Literal["desc", "asc"], Query(description="desc: latest first; asc: by time")
    ] = "desc",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> CalendarPage:
    if business_id != principal.business_id:
        raise NotFound(f"business {business_id} not found")
    page = await run_in_threadpool(
        lambda: scheduled_posts.calendar(
            container.scheduling_ports,
            business_id,
            statuses=list(dict.fromkeys(s.value for s in status)) if status else None,
            platform=platform,
            start=_instant(from_, "from"),
            end=_instant(to, "to"),
            newest_first=order == "desc",
            limit=limit,
            cursor=cursor,
        )
    )
    return CalendarPage(items=[ScheduledPostOut.of(p) for p in page.posts], next_cursor=page.cursor)


@router.put(
    "/schedule/{post_id}",
    response_model=ScheduledPostOut,
    summary="Reschedule or edit a post until the worker starts publishing it (409 after)",
    dependencies=[RateLimit("publish")],
)
async def edit_schedule(
    post_id: PostId, body: RescheduleIn, principal: PrincipalDep, container: ContainerDep
) -> ScheduledPostOut:
    when = None
    if body.scheduled_for is not None:
        when = scheduled_posts.When(body.scheduled_for, body.timezone, body.fold)
    elif body.timezone is not None or body.fold is not None:
        raise InvalidInput(
            "timezone and fold go with scheduled_for",
            [FieldError("scheduled_for", "required with timezone or fold", "missing")],
        )
    post = await run_in_threadpool(
        lambda: scheduled_posts.edit(
            container.scheduling_ports,
            principal.business_id,
            post_id,
            content_changes=body.content_changes(),
            account_ids=body.account_ids,
            when=when,
        )
    )
    return ScheduledPostOut.of(post)


@router.delete(
    "/schedule/{post_id}",
    response_model=ScheduledPostOut,
    summary="Cancel a post until the worker starts publishing it (409 after)",
    dependencies=[RateLimit("default")],
)
async def cancel_schedule(
    post_id: PostId, principal: PrincipalDep, container: ContainerDep
) -> ScheduledPostOut:
    post = await run_in_threadpool(
        scheduled_posts.cancel, container.scheduling_ports, principal.business_id, post_id
    )
    return ScheduledPostOut.of(post)
