"""Shared fixtures: moto with the resources template.yaml declares, real Redis, a container.

moto's resources are made once per session and cleared back to the template's state before each
test that asks for them (tests/moto_session.py); each test gets a flushed Redis database. Runs
that happen at the same time on one machine pick different databases with HERALD_TEST_REDIS_DB.
A test's tier (unit, integration, ...) comes from its folder (tests/tiers.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.update(
    {
        "HERALD_ENV": "test",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Herald",
        "POWERTOOLS_SERVICE_NAME": "herald",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import pytest
import redis
import redis.asyncio as aioredis

from herald import aio
from herald import container as composition
from herald.clock import FrozenClock
from herald.container import Container
from herald.local.template import LocalResources
from herald.settings import Settings, get_settings
from tests.fakes.images import FakeImageProbe

# moto built once per session (the aws and resources fixtures), and the tiers by folder.
pytest_plugins = ["tests.moto_session", "tests.tiers"]

EVENTS = Path(__file__).parent / "events"
REDIS_DB = int(os.environ.get("HERALD_TEST_REDIS_DB", "9"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
# Production's 50 ms Redis timeouts fail fast on a dead Redis. The tests talk to a live one on a
# machine that may be running a soak or another suite beside them, and a 0.5 s connect has timed
# out there under load; tests of the dead-Redis paths build their own clients with short ones.
LIVE_REDIS_TIMEOUT = 2.0


def pytest_configure(config: pytest.Config) -> None:
    # Every log line of the run is searched for the secrets the run made (tests/security).
    from tests.security.secret_watch import SecretLogWatch

    watch = SecretLogWatch()
    watch.start()
    config.pluginmanager.register(watch, "herald-secret-log-watch")


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a real Lambda context."""

    function_name: str = "herald-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:herald-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/herald-test"
    log_stream_name: str = "2026/11/25/[$LATEST]abcdef"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    composition.set_container(None)


@pytest.fixture
def settings(resources: LocalResources) -> Settings:
    return Settings(
        HERALD_ENV="test",
        TABLE_NAME=resources.table_name,
        PUBLISH_QUEUE_URL=resources.queue_urls.get("PublishQueue", ""),
        PUBLISH_DLQ_URL=resources.queue_urls.get("PublishDeadLetterQueue", ""),
        EVENTS_TOPIC_ARN=resources.topic_arns.get("EventsTopic", ""),
        MEDIA_BUCKET=resources.media_bucket,
        REDIS_URL=REDIS_URL,
        REDIS_SOCKET_TIMEOUT=LIVE_REDIS_TIMEOUT,
        REDIS_CONNECT_TIMEOUT=LIVE_REDIS_TIMEOUT,
    )


@pytest.fixture
def redis_sync() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
async def redis_client(redis_sync: redis.Redis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def container(settings: Settings, aws: Any, redis_sync: redis.Redis) -> Iterator[Container]:
    """A container on moto and real Redis, installed as the process-wide one for handlers."""
    # Images are read at creation for Instagram's rules: from memory, not the network.
    built = Container(settings, boto_session=aws, image_probe=FakeImageProbe())
    composition.set_container(built)
    yield built
    composition.set_container(None)
    aio.run(built.aclose())
