"""What the reader tests share: an account to read as, and targets to read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from herald.accounts import Credentials, PlatformName
from herald.metrics.model import MetricTarget
from herald.metrics.readers import MetricsAccount

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def account(
    platform: PlatformName, external_id: str, *scopes: str, **details: str
) -> MetricsAccount:
    creds = Credentials("acc_1", platform, external_id, "tok-123", dict(details))
    return MetricsAccount(creds, frozenset(scopes))


def target(platform: PlatformName, platform_post_id: str, age: timedelta) -> MetricTarget:
    published = (NOW - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return MetricTarget("post_1", "acc_1", platform, platform_post_id, published)
