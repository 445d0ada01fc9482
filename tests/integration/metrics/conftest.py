"""The metrics tests' fixtures: the API in process on moto, real Redis and the sandbox."""

from tests.fakes.api_stack import api_call  # noqa: F401 - fixtures for this package
from tests.fakes.oauth import (  # noqa: F401
    oauth_clock,
    oauth_container,
    oauth_settings,
    sandbox,
    sandbox_app,
)
