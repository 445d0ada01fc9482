"""The environment `make dev` gives the handlers: its own resources always, and defaults (the
generous publish limits among them) only where the person set nothing."""

from __future__ import annotations

from types import SimpleNamespace

from herald.local.stack import DEV_LIMITS, dev_environment, parse_args

RESOURCES = SimpleNamespace(
    table_name="herald-table",
    queue_url="http://moto/q",
    dlq_url="http://moto/dlq",
    topic_arn="arn:aws:sns:us-east-1:123456789012:herald-EventsTopic",
    media_bucket="herald-mediabucket",
)


def environment(current: dict[str, str], *argv: str) -> dict[str, str]:
    return dev_environment(
        parse_args(list(argv)), "http://127.0.0.1:5000", "redis://r:6379/0", RESOURCES, current
    )


def test_publishing_and_connecting_are_limited_generously() -> None:
    env = environment({})

    # Production's defaults are 20/hour and 10/minute: a first try at Herald runs into them.
    assert env["RATE_LIMIT_PUBLISH"] == "1000/hour"
    assert env["RATE_LIMIT_OAUTH"] == "60/minute"


def test_a_limit_the_person_set_is_kept() -> None:
    env = environment({"RATE_LIMIT_PUBLISH": "5/minute"})

    assert "RATE_LIMIT_PUBLISH" not in env
    assert env["RATE_LIMIT_OAUTH"] == DEV_LIMITS["RATE_LIMIT_OAUTH"]


def test_the_stack_s_own_resources_always_win() -> None:
    env = environment({"TABLE_NAME": "elsewhere", "HERALD_ENV": "production"}, "--port", "8123")

    assert env["TABLE_NAME"] == "herald-table"
    assert env["HERALD_ENV"] == "development"
    assert env["PUBLIC_API_URL"] == "http://127.0.0.1:8123"
    assert env["FRONTEND_URL"] == "http://127.0.0.1:8123/app"


def test_the_sandbox_s_urls_are_set_unless_it_is_off() -> None:
    assert environment({}, "--sandbox-port", "8799")["X_API_BASE"] == "http://127.0.0.1:8799"
    assert "X_API_BASE" not in environment({}, "--no-sandbox")
