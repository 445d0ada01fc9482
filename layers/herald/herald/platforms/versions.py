"""How long the platform API versions the settings name keep working, so a move is planned
before the platform refuses every call.

LinkedIn (https://learn.microsoft.com/en-us/linkedin/marketing/versioning): monthly versions
named YYYYMM in the `LinkedIn-Version` header, each "supported and stable for a minimum of one
year before sunset"; the dated sunsets are the migrations table
(https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations). A sunset or
never-released version is answered `426 {"code": "NONEXISTENT_VERSION", "message": "Requested
version 20250401 is not active"}` (the shape integrations report once a version is retired, for
example https://github.com/n8n-io/n8n/issues/28600). A version the table does not date is taken
to end on the 15th of its month a year on: the documented sunsets fall between the 15th and the
17th, so the estimate errs a day or two early, never late.

Meta Graph (https://developers.facebook.com/docs/graph-api/guides/versioning): "A version will no
longer be usable two years after the date that the subsequent version is released"; the dates are
the changelog's (https://developers.facebook.com/docs/graph-api/changelog/versions and, for
v27.0, https://developers.facebook.com/blog/post/2026/11/04/introducing-graph-api-v27-and-marketing-api-v27/).
A call to an expired Graph version is served by the oldest live one instead of being refused,
which is worse than an error: the behaviour changes under Herald without a word. So the same
warning applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

WARN_DAYS = 60  # warn this long before a version's end

# LinkedIn's migrations table (sunset dates), as published.
LINKEDIN_SUNSETS: dict[str, date] = {
    "202410": date(2025, 10, 15),
    "202411": date(2025, 11, 17),
    "202510": date(2026, 10, 15),
    "202511": date(2026, 11, 16),
    "202601": date(2027, 1, 15),
    "202602": date(2027, 2, 15),
    "202603": date(2027, 3, 16),
}
# Months LinkedIn released no version for: the migrations table goes from 202511 to 202601.
LINKEDIN_NOT_RELEASED = frozenset({"202512"})
_LINKEDIN = re.compile(r"^(\d{4})(\d{2})(?:\.\d{2})?$")

# Graph API versions: (released, usable until) from the changelog; None until Meta dates it.
GRAPH_VERSIONS: dict[str, tuple[date, date | None]] = {
    "v20.0": (date(2024, 5, 21), date(2026, 9, 24)),
    "v21.0": (date(2024, 10, 2), date(2027, 1, 21)),
    "v22.0": (date(2025, 1, 21), date(2027, 5, 20)),
    "v23.0": (date(2025, 5, 29), date(2027, 10, 8)),
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),
    "v26.0": (date(2026, 7, 29), None),
    "v27.0": (date(2026, 11, 4), None),
}
_GRAPH = re.compile(r"^v(\d+)\.(\d+)$")

State = Literal["current", "ageing", "retired", "unknown"]


@dataclass(frozen=True)
class VersionStatus:
    platform: Literal["linkedin", "meta"]
    setting: str  # the environment variable that moves it
    version: str
    state: State
    ends: date | None = None
    basis: str = ""  # where `ends` comes from

    def days_left(self, today: date) -> int | None:
        return (self.ends - today).days if self.ends else None

    def warning(self, today: date) -> str | None:
        name = "LinkedIn-Version" if self.platform == "linkedin" else "Graph API version"
        if self.state == "unknown":
            return (
                f"{name} {self.version} is not a version the platform released: every call will "
                f"be refused; set {self.setting} to a current version"
            )
        if self.state == "retired":
            return (
                f"{name} {self.version} ended on {self.ends}: the platform refuses or reroutes "
                f"every call; set {self.setting} to a current version"
            )
        if self.state == "ageing":
            return (
                f"{name} {self.version} ends on {self.ends} ({self.days_left(today)} days, "
                f"{self.basis}); move {self.setting} to a newer version before then"
            )
        return None

    def as_dict(self, today: date) -> dict[str, Any]:
        out: dict[str, Any] = {
            "setting": self.setting,
            "version": self.version,
            "state": self.state,
            "ends": self.ends.isoformat() if self.ends else None,
            "days_left": self.days_left(today),
            "basis": self.basis,
        }
        warning = self.warning(today)
        if warning:
            out["warning"] = warning
        return out


def _state(ends: date | None, today: date) -> State:
    if ends is None:
        return "current"
    if ends <= today:
        return "retired"
    return "ageing" if (ends - today).days <= WARN_DAYS else "current"


def linkedin_status(version: str, today: date) -> VersionStatus:
    setting = "LINKEDIN_VERSION"
    match = _LINKEDIN.match(version)
    if not match:
        return VersionStatus("linkedin", setting, version, "unknown", basis="not YYYYMM")
    year, month = int(match[1]), int(match[2])
    month_key = f"{year:04d}{month:02d}"
    if not 1 <= month <= 12 or month_key in LINKEDIN_NOT_RELEASED:
        return VersionStatus("linkedin", setting, version, "unknown", basis="never released")
    if (year, month) > (today.year, today.month):
        return VersionStatus("linkedin", setting, version, "unknown", basis="not released yet")
    if month_key in LINKEDIN_SUNSETS:
        ends, basis = LINKEDIN_SUNSETS[month_key], "LinkedIn's migrations table"
    else:
        ends, basis = date(year + 1, month, 15), "estimated: a year after its month"
    return VersionStatus("linkedin", setting, version, _state(ends, today), ends, basis)


def linkedin_version_active(version: str, today: date) -> bool:
    """Whether LinkedIn still answers this version (the sandbox's 426 follows it)."""
    return linkedin_status(version, today).state in ("current", "ageing")


def _graph_key(version: str) -> tuple[int, int] | None:
    match = _GRAPH.match(version)
    return (int(match[1]), int(match[2])) if match else None


def graph_status(version: str, today: date) -> VersionStatus:
    setting = "META_GRAPH_VERSION"
    key = _graph_key(version)
    if key is None:
        return VersionStatus("meta", setting, version, "unknown", basis="not vNN.N")
    known = sorted((k, v) for v in GRAPH_VERSIONS if (k := _graph_key(v)) is not None)
    if version in GRAPH_VERSIONS:
        until = GRAPH_VERSIONS[version][1]
        if until is not None:
            return VersionStatus(
                "meta", setting, version, _state(until, today), until, "Meta's changelog"
            )
        # Undated: two years after the next version's release, once there is one.
        later = [GRAPH_VERSIONS[v][0] for k, v in known if k > key]
        if later:
            successor = min(later)
            ends = successor.replace(year=successor.year + 2)
            basis = "two years after the next version's release"
            return VersionStatus("meta", setting, version, _state(ends, today), ends, basis)
        return VersionStatus("meta", setting, version, "current", basis="the newest version")
    if known and key > known[-1][0]:
        return VersionStatus("meta", setting, version, "current", basis="newer than Herald knows")
    # Older than every version still listed, or a number Meta never used.
    return VersionStatus("meta", setting, version, "retired", basis="no longer listed by Meta")


def statuses(linkedin_version: str, graph_version: str, today: date) -> list[VersionStatus]:
    return [linkedin_status(linkedin_version, today), graph_status(graph_version, today)]
