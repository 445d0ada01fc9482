"""The fuzz tests' fixtures: the API in process on moto, real Redis and the sandbox."""

import pytest

from herald.local.template import LocalResources
from herald.settings import Settings
from tests.fakes.api_stack import api_call  # noqa: F401 - fixtures for this package
from tests.fakes.oauth import (  # noqa: F401
    oauth_clock,
    oauth_container,
    sandbox,
    sandbox_app,
    sandbox_settings,
)


@pytest.fixture
def oauth_settings(resources: LocalResources) -> Settings:
    # Production's 50 ms Redis timeouts fail fast on a dead Redis; this machine runs several
    # suites at once, and a live Redis needs headroom under that load.
    return sandbox_settings(resources, REDIS_SOCKET_TIMEOUT=0.5, REDIS_CONNECT_TIMEOUT=0.5)
