"""`GET /api/v1/me`: the business an API key belongs to (the simplest authenticated route)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.ratelimit import RateLimit

router = APIRouter(tags=["business"])


class BusinessOut(BaseModel):
    business_id: str
    name: str
    created_at: str
    key_id: str


@router.get(
    "/me",
    response_model=BusinessOut,
    summary="The business this API key belongs to",
    dependencies=[RateLimit("default")],
)
async def me(principal: PrincipalDep, container: ContainerDep) -> BusinessOut:
    business = await run_in_threadpool(container.businesses.get, principal.business_id)
    return BusinessOut(
        business_id=business.business_id,
        name=business.name,
        created_at=business.created_at,
        key_id=principal.key_id,
    )
