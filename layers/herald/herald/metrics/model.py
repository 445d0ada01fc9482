"""A reading of one target's metrics, and the snapshot of it kept on the post.

Every network names its counts differently; a reader maps them onto the six below. A metric the
network does not give (or not to this token, or not for a post this old) is not a zero: it is
left out of `values` and named in `unavailable` with the reason a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from herald.accounts import PlatformName

METRICS: tuple[str, ...] = ("impressions", "reach", "reactions", "comments", "shares", "clicks")
# What counts as engaging with a post: every interaction a network reports, views aside.
ENGAGEMENTS: tuple[str, ...] = ("reactions", "comments", "shares", "clicks")


@dataclass(frozen=True)
class MetricTarget:
    """One published target to read: what the post is called on its network."""

    post_id: str
    account_id: str
    platform: PlatformName
    platform_post_id: str
    published_at: str  # ISO 8601 UTC


@dataclass(frozen=True)
class Reading:
    values: dict[str, int] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, values: dict[str, int | None], unavailable: dict[str, str]) -> Reading:
        """Values that came back as None (absent from the answer) count as unavailable."""
        kept = {k: int(v) for k, v in values.items() if v is not None}
        missing = {
            k: unavailable.get(k, "the network did not return it") for k in METRICS if k not in kept
        }
        return cls(kept, missing)

    @classmethod
    def none(cls, reason: str) -> Reading:
        return cls({}, dict.fromkeys(METRICS, reason))


@dataclass(frozen=True)
class ReadError:
    """Why a target could not be read this time. `retry` errors keep the last values (stale);
    the others leave the metrics unavailable until something changes."""

    kind: str  # rate_limited | unreachable | auth_revoked | permission | gone | platform_error
    reason: str
    retry: bool
    retry_after: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class Snapshot:
    """A target's latest metrics as stored on the post item (`metrics.<account_id>`)."""

    platform: str
    values: dict[str, int]
    unavailable: dict[str, str]
    taken_at: str | None  # when `values` were read; None: never read successfully
    attempted_at: str  # the last attempt, successful or not
    error: dict[str, str] | None = None  # the last attempt's failure, if it failed

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "platform": self.platform,
            "values": dict(self.values),
            "unavailable": dict(self.unavailable),
            "attempted_at": self.attempted_at,
        }
        if self.taken_at:
            item["taken_at"] = self.taken_at
        if self.error:
            item["error"] = dict(self.error)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Snapshot:
        return cls(
            platform=str(item.get("platform", "")),
            values={str(k): int(v) for k, v in (item.get("values") or {}).items()},
            unavailable={str(k): str(v) for k, v in (item.get("unavailable") or {}).items()},
            taken_at=item.get("taken_at"),
            attempted_at=str(item.get("attempted_at", "")),
            error={str(k): str(v) for k, v in item["error"].items()} if item.get("error") else None,
        )

    def after(self, outcome: Reading | ReadError, now: str) -> Snapshot:
        """This snapshot once `outcome` is in: new values, or the old ones kept with the error."""
        if isinstance(outcome, Reading):
            return Snapshot(self.platform, outcome.values, outcome.unavailable, now, now)
        if outcome.retry:
            return Snapshot(
                self.platform,
                self.values,
                self.unavailable,
                self.taken_at,
                now,
                outcome.as_dict(),
            )
        # The network will not give them (revoked, no permission, deleted): say so per metric.
        return Snapshot(
            self.platform, {}, dict.fromkeys(METRICS, outcome.reason), None, now, outcome.as_dict()
        )


def engagements(values: dict[str, int]) -> int:
    return sum(values.get(name, 0) for name in ENGAGEMENTS)


def engagement_rate(engaged: int, impressions: int) -> float | None:
    return round(engaged / impressions, 4) if impressions > 0 else None
