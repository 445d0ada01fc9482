"""`GET /accounts/{id}/publishing-limit`: what a Threads account may still publish today, read
live from Threads' `threads_publishing_limit` (a moving 24-hour window), and when the oldest
post in the window leaves it once the quota is used up."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald.accounts import Credentials
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.problems import problem
from herald.api.ratelimit import RateLimit
from herald.clock import isoformat
from herald.errors import NotFound
from herald.platforms.base import PlatformError
from herald.platforms.threads import Quota, ThreadsPublisher
from herald.tokens import credentials_for

router = APIRouter(tags=["accounts"], dependencies=[RateLimit("default")])


class QuotaOut(BaseModel):
    used: int
    total: int
    left: int
    window_seconds: int
    frees_at: str | None = Field(
        None, description="when the oldest post leaves the window; only when nothing is left"
    )


class PublishingLimitOut(BaseModel):
    account_id: str
    platform: str
    posts: QuotaOut
    replies: QuotaOut | None = None


@router.get(
    "/accounts/{account_id}/publishing-limit",
    response_model=PublishingLimitOut,
    summary="A Threads account's posts and replies left in the moving 24 hours",
    responses={502: {"description": "Threads refused or did not answer (the problem says why)"}},
)
async def publishing_limit(
    account_id: str, principal: PrincipalDep, container: ContainerDep
) -> PublishingLimitOut | Response:
    account = await run_in_threadpool(container.accounts.get, principal.business_id, account_id)
    publisher = container.publishers.get(account.platform)
    if not isinstance(publisher, ThreadsPublisher):
        raise NotFound(f"{account.platform} accounts have no publishing limit to read")
    try:
        creds = await credentials_for(container.token_ports, principal.business_id, account_id)
        return await _read(account_id, publisher, creds)
    except PlatformError as exc:
        return problem(502, "Bad Gateway", exc.reason(), code=exc.kind.value)


async def _read(
    account_id: str, publisher: ThreadsPublisher, creds: Credentials
) -> PublishingLimitOut:
    limit = await publisher.publishing_limit(creds)

    async def out(quota: Quota, edge: str) -> QuotaOut:
        frees = await publisher.frees_at(creds, edge, quota) if quota.left == 0 else None
        return QuotaOut(
            used=quota.used,
            total=quota.total,
            left=quota.left,
            window_seconds=quota.window_seconds,
            frees_at=isoformat(frees) if frees else None,
        )

    return PublishingLimitOut(
        account_id=account_id,
        platform=creds.platform,
        posts=await out(limit.posts, "threads"),
        replies=await out(limit.replies, "replies") if limit.replies else None,
    )
