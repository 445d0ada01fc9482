"""Policies, the GCRA arithmetic and the in-process fallback: no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.api.ratelimit import header_fields
from herald.ratelimit import LocalLimiter, Policy, parse_policy, policies_from_settings
from herald.settings import Settings
from tests.fakes.ratelimit_model import TokenBuckets

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds


@pytest.mark.parametrize(
    ("spec", "limit", "period"),
    [
        ("10/minute", 10, 60),
        ("20/hour", 20, 3600),
        ("20 per hour", 20, 3600),
        ("5/10 minutes", 5, 600),
        ("100/Second", 100, 1),
        ("1/day", 1, 86_400),
    ],
)
def test_a_policy_is_read_from_its_setting(spec: str, limit: int, period: int) -> None:
    assert parse_policy("p", spec) == Policy("p", limit, period)


@pytest.mark.parametrize("spec", ["", "ten/minute", "0/minute", "10/fortnight", "10"])
def test_a_malformed_policy_is_refused_with_its_name(spec: str) -> None:
    with pytest.raises(ValueError, match="rate limit p="):
        parse_policy("p", spec)


def test_the_plans_limits_are_the_defaults() -> None:
    policies = policies_from_settings(Settings(HERALD_ENV="test"))
    assert {n: (p.limit, p.period) for n, p in policies.items()} == {
        "oauth": (10, 60),
        "publish": (20, 3600),
        "analytics": (100, 60),
        "auth_failures": (5, 60),
        "default": (300, 60),
    }


def test_each_policy_can_be_overridden_per_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_PUBLISH", "50/day")
    monkeypatch.setenv("RATE_LIMIT_DEFAULT", "1000/minute")
    policies = policies_from_settings(Settings(HERALD_ENV="test"))
    assert (policies["publish"].limit, policies["publish"].period) == (50, 86_400)
    assert policies["default"].limit == 1000


def test_a_fresh_subject_may_spend_the_whole_limit_at_once_and_no_more() -> None:
    local = LocalLimiter()
    policy = Policy("p", 5, 60)
    decisions = [local.hit(["k"], [policy], T0) for _ in range(6)]
    assert [d.admitted for d in decisions] == [True] * 5 + [False]
    assert [d.states[0].remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert decisions[5].retry_after == pytest.approx(12.0)


def test_a_request_one_policy_refuses_costs_nothing_under_the_others() -> None:
    local = LocalLimiter()
    tight, loose = Policy("tight", 1, 60), Policy("loose", 10, 60)
    local.hit(["a", "b"], [tight, loose], T0)
    refused = local.hit(["a", "b"], [tight, loose], T0)
    assert not refused.admitted
    assert refused.states[1].remaining == 9
    assert local.hit(["b"], [loose], T0).states[0].remaining == 8


def test_the_fallback_keeps_at_most_its_bound_of_subjects() -> None:
    local = LocalLimiter(max_keys=100)
    policy = Policy("p", 1, 60)
    for i in range(1000):
        local.hit([f"k{i}"], [policy], T0)
    assert len(local) == 100


@settings(max_examples=200, deadline=None)
@given(
    limits=st.lists(st.tuples(st.integers(1, 8), st.integers(1, 5)), min_size=1, max_size=3),
    gaps=st.lists(st.integers(0, 3_000_000), min_size=1, max_size=80),
)
def test_the_fallback_agrees_with_the_reference_model(
    limits: list[tuple[int, int]], gaps: list[int]
) -> None:
    policies = [Policy(f"p{i}", n, s) for i, (n, s) in enumerate(limits)]
    keys = [p.name for p in policies]
    local, model = LocalLimiter(), TokenBuckets(policies)
    now = T0
    for gap in gaps:
        now += gap
        decision = local.hit(keys, policies, now)
        assert decision.admitted == model.hit(now)
        if decision.admitted:
            assert [s.remaining for s in decision.states] == model.remaining()


def test_headers_follow_the_draft_and_name_the_policy_closest_to_refusing() -> None:
    local = LocalLimiter()
    publish, default = Policy("publish", 2, 3600), Policy("default", 300, 60)
    decision = local.hit(["a", "b"], [publish, default], T0)
    assert header_fields(decision) == {
        "RateLimit-Policy": '"publish";q=2;w=3600, "default";q=300;w=60',
        "RateLimit": '"publish";r=1;t=1800, "default";r=299;t=1',
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": "1800",
    }
