"""scheduled_for as clients send it -> one UTC instant, daylight saving included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.errors import InvalidInput
from herald.timezones import check_window, is_ambiguous, resolve

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _code(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.errors[0].code


def test_an_offset_names_the_instant() -> None:
    assert resolve("2026-07-01T09:00:00+02:00", None).at == datetime(2026, 7, 1, 7, tzinfo=UTC)


def test_z_is_utc() -> None:
    assert resolve("2026-07-01T09:00:00Z", None).at == datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_a_local_time_is_read_in_its_zone() -> None:
    resolved = resolve("2026-07-01T09:00:00", "Europe/Paris")
    assert resolved.at == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert resolved.timezone == "Europe/Paris"


def test_a_local_time_in_winter_uses_the_winter_offset() -> None:
    assert resolve("2026-12-01T09:00:00", "Europe/Paris").at == datetime(2026, 12, 1, 8, tzinfo=UTC)


def test_a_local_time_without_a_zone_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("2026-07-01T09:00:00", None)
    assert _code(exc) == "missing_offset"


def test_an_unknown_zone_is_refused_on_the_timezone_field() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("2026-07-01T09:00:00", "Mars/Olympus_Mons")
    assert (exc.value.errors[0].field, _code(exc)) == ("timezone", "unknown_timezone")


def test_a_path_like_zone_name_is_refused_not_read_from_disk() -> None:
    with pytest.raises(InvalidInput):
        resolve("2026-07-01T09:00:00", "../../etc/passwd")


def test_garbage_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("next tuesday", None)
    assert _code(exc) == "invalid_datetime"


# --- daylight saving: the gap (spring forward) --------------------------------------------


def test_a_wall_time_inside_the_spring_gap_is_refused_naming_the_next_valid_time() -> None:
    # New York, 2026-03-08: 02:00 jumps to 03:00, so 02:30 never happens.
    with pytest.raises(InvalidInput) as exc:
        resolve("2026-03-08T02:30:00", "America/New_York")
    assert _code(exc) == "nonexistent_local_time"
    assert "2026-03-08T03:00:00" in exc.value.errors[0].message


def test_the_first_wall_time_after_the_gap_is_fine() -> None:
    at = resolve("2026-03-08T03:00:00", "America/New_York").at
    assert at == datetime(2026, 3, 8, 7, tzinfo=UTC)  # EDT, UTC-4


def test_a_gap_time_sent_with_a_real_offset_is_an_instant_and_fine() -> None:
    # 02:30-05:00 is a real instant (07:30Z) even though the wall clock never shows it.
    assert resolve("2026-03-08T02:30:00-05:00", None).at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


# --- daylight saving: the overlap (fall back) ---------------------------------------------


def test_an_ambiguous_wall_time_means_its_first_occurrence_by_default() -> None:
    # New York, 2026-11-01: 01:30 happens at EDT (05:30Z) and again at EST (06:30Z).
    assert is_ambiguous("2026-11-01T01:30:00", "America/New_York")
    at = resolve("2026-11-01T01:30:00", "America/New_York").at
    assert at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_fold_one_picks_the_second_occurrence() -> None:
    at = resolve("2026-11-01T01:30:00", "America/New_York", fold=1).at
    assert at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_an_offset_with_the_zone_picks_the_occurrence_it_names() -> None:
    assert resolve("2026-11-01T01:30:00-05:00", "America/New_York").at == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )
    assert resolve("2026-11-01T01:30:00-04:00", "America/New_York").at == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


def test_an_offset_the_zone_never_has_at_that_wall_time_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("2026-07-01T09:00:00+05:00", "Europe/Paris")
    assert _code(exc) == "offset_mismatch"


def test_fold_is_ignored_where_the_time_is_not_ambiguous() -> None:
    assert resolve("2026-07-01T09:00:00", "Europe/Paris", fold=1).at == datetime(
        2026, 7, 1, 7, tzinfo=UTC
    )


def test_a_zone_with_a_half_hour_shift_is_handled() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 2026-10-04.
    with pytest.raises(InvalidInput):
        resolve("2026-10-04T02:15:00", "Australia/Lord_Howe")


# --- the window ----------------------------------------------------------------------------


def test_a_time_just_past_within_the_skew_is_accepted() -> None:
    check_window(datetime(2026, 6, 1, 11, 59, 45, tzinfo=UTC), NOW, skew_seconds=30)


def test_a_time_in_the_past_beyond_the_skew_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_window(datetime(2026, 6, 1, 11, 59, 29, tzinfo=UTC), NOW, skew_seconds=30)
    assert _code(exc) == "in_past"


def test_a_time_more_than_a_year_ahead_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_window(datetime(2027, 6, 2, 12, 0, tzinfo=UTC), NOW, skew_seconds=30)
    assert _code(exc) == "too_far_ahead"


def test_a_time_a_year_ahead_to_the_day_is_accepted() -> None:
    check_window(datetime(2027, 6, 1, 12, 0, tzinfo=UTC), NOW, skew_seconds=30)


@pytest.mark.parametrize("when", ["2026-07-01", "20260701", "2026-W27-3", " 2026-07-01 "])
def test_a_date_without_a_time_is_refused(when: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve(when, "Europe/Paris")
    assert _code(exc) == "missing_time"
    assert "add the time" in exc.value.errors[0].message


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("EST", "America/New_York"),
        ("est", "America/New_York"),
        ("EST5EDT", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("PST8PDT", "America/Los_Angeles"),
        ("MST", "America/Denver"),
        ("HST", "Pacific/Honolulu"),
        ("CET", "Europe/Paris"),
        ("BST", "Europe/London"),
        ("IST", "Asia/Kolkata"),
    ],
)
def test_a_zone_abbreviation_is_refused_with_an_iana_zone_to_use(name: str, suggested: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("2026-07-01T09:00:00", name)
    [error] = exc.value.errors
    assert (error.field, error.code) == ("timezone", "ambiguous_timezone")
    assert suggested in error.message


@pytest.mark.parametrize("name", ["UTC", "Etc/GMT+5", "America/New_York", "Asia/Kolkata"])
def test_utc_fixed_offsets_and_iana_zones_are_taken(name: str) -> None:
    assert resolve("2026-07-01T09:00:00", name).timezone == name
