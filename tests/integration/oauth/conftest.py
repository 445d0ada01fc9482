"""The OAuth tests' fixtures: a container whose platforms are the in-process sandbox."""

from tests.fakes.oauth import (  # noqa: F401 - fixtures for this package
    api,
    business,
    oauth_clock,
    oauth_container,
    oauth_settings,
    other_business,
    sandbox,
    sandbox_app,
)
