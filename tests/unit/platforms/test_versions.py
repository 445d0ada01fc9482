"""Platform API versions: when each configured one ends, and the warning before it does."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from herald.clock import FrozenClock
from herald.container import Container
from herald.platforms import versions
from herald.platforms.version_warnings import METRIC, announce
from herald.settings import Settings

TODAY = date(2026, 12, 3)


def test_202511_ended_on_the_date_linkedins_migrations_table_gives() -> None:
    status = versions.linkedin_status("202511", TODAY)

    assert status.state == "retired"
    assert status.ends == date(2026, 11, 16)
    assert status.basis == "LinkedIn's migrations table"
    assert "LINKEDIN_VERSION" in (status.warning(TODAY) or "")


def test_a_version_within_60_days_of_its_end_is_ageing() -> None:
    status = versions.linkedin_status("202603", date(2027, 1, 20))

    assert status.state == "ageing"
    assert status.days_left(date(2027, 1, 20)) == 55
    assert "ends on 2027-03-16 (55 days" in (status.warning(date(2027, 1, 20)) or "")


def test_the_default_version_is_current_today() -> None:
    status = versions.linkedin_status(Settings(HERALD_ENV="test").linkedin_version, TODAY)

    assert status.state == "current"
    assert status.warning(TODAY) is None


def test_an_undated_version_is_taken_to_end_on_the_15th_a_year_after_its_month() -> None:
    status = versions.linkedin_status("202607", TODAY)

    assert status.ends == date(2027, 7, 15)
    assert status.basis.startswith("estimated")


@pytest.mark.parametrize("version", ["202512", "202701", "2026-07", "20261"])
def test_a_month_linkedin_never_released_is_unknown(version: str) -> None:
    status = versions.linkedin_status(version, TODAY)

    assert status.state == "unknown"
    assert not versions.linkedin_version_active(version, TODAY)


def test_a_dated_graph_version_ends_when_metas_changelog_says() -> None:
    status = versions.graph_status("v24.0", TODAY)

    assert status.ends == date(2028, 2, 18)
    assert status.state == "current"


def test_an_undated_graph_version_ends_two_years_after_the_next_release() -> None:
    status = versions.graph_status("v26.0", TODAY)

    assert status.ends == date(2028, 11, 4)  # v27.0 came out on 2026-11-04
    assert status.basis == "two years after the next version's release"


def test_the_newest_graph_version_has_no_end_yet() -> None:
    assert versions.graph_status("v27.0", TODAY).state == "current"
    assert versions.graph_status("v27.0", TODAY).ends is None


@pytest.mark.parametrize(
    ("version", "state"),
    [("v20.0", "retired"), ("v19.0", "retired"), ("v30.0", "current"), ("27", "unknown")],
)
def test_graph_versions_past_their_end_or_unheard_of(version: str, state: str) -> None:
    assert versions.graph_status(version, TODAY).state == state


def test_an_ageing_version_logs_a_warning_and_writes_the_metric(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = versions.statuses("202603", "v27.0", date(2027, 1, 20))

    warnings = announce(found, date(2027, 1, 20))

    assert len(warnings) == 1
    metric_lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if METRIC in line
    ]
    [emf] = metric_lines
    assert emf[METRIC] == [55.0]
    assert emf["Platform"] == "linkedin"
    assert emf["Version"] == "202603"
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Herald"


def test_current_versions_announce_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert announce(versions.statuses("202607", "v27.0", TODAY), TODAY) == []
    assert METRIC not in capsys.readouterr().out


def test_the_container_checks_the_versions_when_it_builds_the_publishers() -> None:
    settings = Settings(HERALD_ENV="test", linkedin_version="202511")
    clock = FrozenClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    container = Container(settings, clock=clock)

    assert container.publishers
    [warning] = container.platform_version_warnings
    assert "202511 ended on 2026-11-16" in warning


@pytest.mark.parametrize(
    ("name", "value"), [("linkedin_version", "November"), ("meta_graph_version", "27.0")]
)
def test_a_version_setting_of_the_wrong_shape_is_refused_at_start(name: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(HERALD_ENV="test", **{name: value})  # type: ignore[arg-type]
