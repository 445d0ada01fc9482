"""A test's tier comes from where it lives, and the unit tier's guard keeps it off the network."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.tiers import TESTS, SocketUsedInUnitTest, tier_markers


@pytest.mark.parametrize(
    ("path", "markers"),
    [
        ("unit/test_new_policy.py", ("unit",)),
        ("unit/platforms/deeper/test_new_platform.py", ("unit",)),
        ("contract/test_new_fake.py", ("contract",)),
        ("integration/api/test_new_route.py", ("integration",)),
        ("security/test_new_header.py", ("integration",)),
        ("e2e/test_new_flow.py", ("e2e", "slow")),
        ("e2e/test_dashboard.py", ("e2e", "browser", "slow")),
        ("sam/test_new_build.py", ("sam", "slow")),
        ("security/test_cfn_lint.py", ("sam", "slow")),
        ("test_somewhere_new.py", ("integration",)),
    ],
)
def test_a_new_test_file_takes_the_tier_of_its_folder(path: str, markers: tuple[str, ...]) -> None:
    assert tier_markers(TESTS / path) == markers


def test_a_file_outside_the_tests_folder_counts_as_integration() -> None:
    assert tier_markers(Path("/elsewhere/test_x.py")) == ("integration",)


def test_this_file_runs_as_a_unit_test(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None


def test_a_unit_test_cannot_connect_to_redis() -> None:
    with pytest.raises(SocketUsedInUnitTest, match="tests/integration"):
        socket.create_connection(("127.0.0.1", 6379), timeout=1)


def test_a_unit_test_cannot_look_up_a_name() -> None:
    with pytest.raises(SocketUsedInUnitTest, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)


def test_a_unit_test_cannot_listen() -> None:
    with socket.socket() as server, pytest.raises(SocketUsedInUnitTest):
        server.bind(("127.0.0.1", 0))


def test_an_address_spelt_out_still_resolves_without_a_network() -> None:
    [(*_, address)] = socket.getaddrinfo("2130706433", 80, type=socket.SOCK_STREAM)

    assert address == ("127.0.0.1", 80)


async def test_an_event_loop_still_runs_in_a_unit_test() -> None:
    # The loop's own wake-up socket pair is local to the process.
    assert await asyncio.sleep(0, result="ran") == "ran"
