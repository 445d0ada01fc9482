"""`GET /api/v1/analytics/summary`: per platform published/failed, success rate, latency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from herald import analytics
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.ratelimit import RateLimit

router = APIRouter(tags=["analytics"])


class PlatformSummaryOut(BaseModel):
    platform: str
    published: int
    failed: int
    unconfirmed: int
    success_rate: float | None
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None


class SummaryOut(BaseModel):
    window: str
    since: str
    until: str
    generated_at: str
    cached: bool
    platforms: list[PlatformSummaryOut]


@router.get(
    "/analytics/summary",
    response_model=SummaryOut,
    summary="Per platform: published, failed, success rate and publish latency p50/p95",
    description="Cached for 5 minutes per business and window (`cached` says so).",
    dependencies=[RateLimit("analytics")],
)
async def summary(
    principal: PrincipalDep,
    container: ContainerDep,
    window: Annotated[str, Query(examples=["7d"], description="30m, 24h, 7d ... (max 90d)")] = "7d",
) -> SummaryOut:
    data = await analytics.summary(container, principal.business_id, window)
    return SummaryOut.model_validate(data)
