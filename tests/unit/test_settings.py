"""Settings: read from the environment once, accepting the plan's `.env` names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from herald.settings import Settings, get_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "REDIS_URL",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_DB",
        "REDIS_PASSWORD",
        "REDIS_TLS",
        "TOKEN_ENCRYPTION_KEYS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_the_plans_redis_variables_build_the_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "cache.internal")
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("REDIS_DB", "2")
    monkeypatch.setenv("REDIS_PASSWORD", "p@ss word")

    assert Settings().redis_url == "redis://:p%40ss%20word@cache.internal:6380/2"


def test_redis_tls_switches_the_scheme_to_rediss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "cache.internal")
    monkeypatch.setenv("REDIS_TLS", "true")

    assert Settings().redis_url == "rediss://cache.internal:6379/0"


def test_redis_url_wins_over_the_separate_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "rediss://cache.example:6379/0")
    monkeypatch.setenv("REDIS_HOST", "ignored")

    assert Settings().redis_url == "rediss://cache.example:6379/0"


def test_rate_limit_enabled_reads_the_plans_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_ENABLED", "false")

    assert Settings().rate_limit_enabled is False


def test_publish_retry_settings_read_the_plans_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISH_RETRY_ATTEMPTS", "5")
    monkeypatch.setenv("PUBLISH_RETRY_DELAY", "2.5")

    settings = Settings()

    assert settings.publish_retry_attempts == 5
    assert settings.publish_retry_delay == 2.5


def test_resource_names_come_from_the_templates_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "herald-prod")
    monkeypatch.setenv("PUBLISH_QUEUE_URL", "https://sqs.example/q")
    monkeypatch.setenv("PUBLISH_DLQ_URL", "https://sqs.example/dlq")
    monkeypatch.setenv("EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t")

    settings = Settings()

    assert (settings.table_name, settings.queue_url, settings.dlq_url, settings.topic_arn) == (
        "herald-prod",
        "https://sqs.example/q",
        "https://sqs.example/dlq",
        "arn:aws:sns:us-east-1:1:t",
    )


@pytest.mark.parametrize("placeholder", ["changeme", "secret", "", "  CHANGEME "])
def test_a_placeholder_encryption_key_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, placeholder: str
) -> None:
    monkeypatch.setenv("HERALD_ENV", "production")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", placeholder)

    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_a_placeholder_encryption_key_is_accepted_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_ENV", "development")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", "changeme")

    assert Settings().environment == "development"


def test_images_from_private_hosts_are_refused_as_a_production_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_ENV", "production")
    monkeypatch.setenv("IMAGE_PRIVATE_HOSTS", "true")

    with pytest.raises(ValidationError, match="IMAGE_PRIVATE_HOSTS"):
        Settings()


def test_settings_are_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "first")
    first = get_settings()
    monkeypatch.setenv("TABLE_NAME", "second")

    assert get_settings() is first
    assert get_settings().table_name == "first"
