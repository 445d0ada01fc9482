"""Turning what a client sends as `scheduled_for` into one UTC instant.

Two shapes are accepted:

- an ISO 8601 time with an offset (`2026-03-08T09:30:00-05:00`, `...Z`): the offset names the
  instant, and an optional IANA `timezone` is kept for display (it must agree with the offset);
- a local wall time without an offset plus an IANA `timezone` (`2026-03-08T09:30:00` +
  `America/New_York`), resolved with the zone's rules for that date.

A date alone (`2026-03-08`) is refused rather than read as midnight, and so is a zone
abbreviation (`EST`, `CET`, `PST` ...), with the IANA zone it most likely stands for: see
ABBREVIATIONS.

Daylight saving makes some wall times special:

- a gap (spring forward: 02:30 does not exist in New York on 2026-03-08) is refused with a 422
  that names the first valid time after it. Shifting silently (RFC 5545's choice) would publish at
  a time nobody picked; a calendar UI never offers such a time, so a client that sends one has a
  bug worth hearing about.
- an overlap (fall back: 01:30 happens twice on 2026-11-01) is accepted. The first occurrence is
  the default (as RFC 5545 and Python's `fold=0` read it); the client picks the second with
  `fold: 1`, or by sending the wall time with the offset it means (`01:30:00-05:00`), which the
  zone must allow at that wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from herald.errors import FieldError, InvalidInput

MAX_AHEAD = timedelta(days=365)


@dataclass(frozen=True)
class ResolvedTime:
    at: datetime  # UTC
    timezone: str | None


def _invalid(message: str, code: str, field: str = "scheduled_for") -> InvalidInput:
    return InvalidInput(message, [FieldError(field, message, code)])


# Abbreviations people write for a zone, and the IANA zone they most likely mean. Some are names
# the tz database keeps for old systems (EST, CET, PST8PDT ...), others are not zones at all (PST,
# BST, IST): neither says where the post's audience is, and several mean two places (IST: India,
# Ireland, Israel; CST: Chicago, China, Cuba) or a fixed offset people do not mean (EST stays at
# UTC-5 through the New York summer). A fixed offset on purpose is written as one (Etc/GMT+5, or
# an offset in scheduled_for).
ABBREVIATIONS = {
    **dict.fromkeys(("EST", "EDT", "EST5EDT", "ET"), "America/New_York"),
    **dict.fromkeys(("CST", "CDT", "CST6CDT", "CT"), "America/Chicago (or Asia/Shanghai)"),
    **dict.fromkeys(
        ("MST", "MDT", "MST7MDT", "MT"), "America/Denver (or America/Phoenix: no summer time)"
    ),
    **dict.fromkeys(("PST", "PDT", "PST8PDT", "PT"), "America/Los_Angeles"),
    **dict.fromkeys(("AKST", "AKDT"), "America/Anchorage"),
    **dict.fromkeys(("HST", "HDT"), "Pacific/Honolulu"),
    **dict.fromkeys(("CET", "CEST", "MET", "MEST"), "Europe/Paris (or Europe/Berlin, ...)"),
    **dict.fromkeys(("EET", "EEST"), "Europe/Athens (or Europe/Helsinki, ...)"),
    **dict.fromkeys(("WET", "WEST"), "Europe/Lisbon"),
    "BST": "Europe/London",
    "IST": "Asia/Kolkata (or Europe/Dublin, Asia/Jerusalem)",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    **dict.fromkeys(("AEST", "AEDT"), "Australia/Sydney"),
    **dict.fromkeys(("NZST", "NZDT"), "Pacific/Auckland"),
    "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong",
    "BRT": "America/Sao_Paulo",
    "MSK": "Europe/Moscow",
}


def zone(name: str) -> ZoneInfo:
    suggestion = ABBREVIATIONS.get(name.strip().upper())
    if suggestion is not None:
        raise _invalid(
            f"{name} is an abbreviation, not a time zone: it does not say where, or whether "
            f"daylight saving applies; send an IANA zone such as {suggestion}",
            "ambiguous_timezone",
            "timezone",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _invalid(f"unknown time zone {name!r}", "unknown_timezone", "timezone") from exc


def _exists(local: datetime) -> bool:
    # A wall time exists iff it survives a round trip through UTC unchanged.
    there_and_back = local.astimezone(UTC).astimezone(local.tzinfo)
    return there_and_back.replace(tzinfo=None) == local.replace(tzinfo=None)


def _next_valid(local: datetime) -> datetime:
    probe = local
    for _ in range(24 * 4):  # gaps are at most a few hours; step by 15 minutes
        probe = probe + timedelta(minutes=15)
        probe = probe.replace(minute=(probe.minute // 15) * 15, second=0, microsecond=0)
        if _exists(probe):
            return probe
    return probe


def _offsets(local: datetime) -> set[timedelta]:
    return {off for fold in (0, 1) if (off := local.replace(fold=fold).utcoffset()) is not None}


def resolve(scheduled_for: str, timezone: str | None, fold: int | None = None) -> ResolvedTime:
    """Parse and resolve, raising InvalidInput (422) with a field error on any problem."""
    try:
        return _resolve(scheduled_for, timezone, fold)
    except OverflowError as exc:
        # 0001-01-01T00:30+01:00 parses, but its UTC instant is before year 1 (and 9999's last
        # hour behind UTC is after year 9999): datetime cannot hold it.
        raise _invalid(OUT_OF_RANGE.format(name="scheduled_for"), "out_of_range") from exc


OUT_OF_RANGE = "{name} is outside the years 1 to 9999 once converted to UTC"


def to_utc(parsed: datetime, name: str) -> datetime:
    """An aware datetime in UTC, or a 422 on `name` when UTC cannot hold it."""
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise _invalid(OUT_OF_RANGE.format(name=name), "out_of_range", name) from exc


def _date_only(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _resolve(scheduled_for: str, timezone: str | None, fold: int | None) -> ResolvedTime:
    if _date_only(scheduled_for.strip()):
        # datetime would read it as midnight: a time nobody chose.
        raise _invalid(
            f"scheduled_for {scheduled_for.strip()} is a date without a time: add the time, "
            "e.g. 2026-05-01T09:00:00",
            "missing_time",
        )
    try:
        parsed = datetime.fromisoformat(scheduled_for.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid("scheduled_for is not an ISO 8601 date-time", "invalid_datetime") from exc
    tz = zone(timezone) if timezone else None

    if parsed.tzinfo is not None:
        if tz is not None:
            wall = parsed.replace(tzinfo=tz)
            if parsed.utcoffset() not in _offsets(wall):
                raise _invalid(
                    f"offset {parsed.isoformat()[19:]} is not a valid offset of {timezone} at "
                    "that wall time",
                    "offset_mismatch",
                )
        return ResolvedTime(parsed.astimezone(UTC), timezone)

    if tz is None:
        raise _invalid(
            "scheduled_for needs an offset (e.g. 2026-05-01T09:00:00+02:00) or a timezone",
            "missing_offset",
        )
    wall = parsed.replace(tzinfo=tz, fold=fold or 0)
    if not _exists(wall):
        suggestion = _next_valid(wall).replace(tzinfo=None).isoformat()
        raise _invalid(
            f"{parsed.isoformat()} does not exist in {timezone} (a daylight-saving gap); "
            f"the next valid time is {suggestion}",
            "nonexistent_local_time",
        )
    return ResolvedTime(wall.astimezone(UTC), timezone)


def check_window(at: datetime, now: datetime, skew_seconds: int) -> None:
    """A time in the past (beyond the skew) or more than a year ahead is refused."""
    if at < now - timedelta(seconds=skew_seconds):
        raise _invalid("scheduled_for is in the past", "in_past")
    if at > now + MAX_AHEAD:
        raise _invalid("scheduled_for is more than a year ahead", "too_far_ahead")


def is_ambiguous(scheduled_for: str, timezone: str) -> bool:
    """True when the wall time happens twice in the zone (the fall-back hour)."""
    parsed = datetime.fromisoformat(scheduled_for).replace(tzinfo=zone(timezone))
    return len(_offsets(parsed)) > 1
