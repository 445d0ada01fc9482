"""The fuzz tests' fixtures: the API in process on moto, real Redis and the sandbox."""

from typing import Any

from hypothesis.internal.conjecture import providers

from herald.settings import SANDBOX_CLIENTS
from tests.fakes.api_stack import api_call  # noqa: F401 - fixtures for this package
from tests.fakes.oauth import (  # noqa: F401
    oauth_clock,
    oauth_container,
    oauth_settings,
    sandbox,
    sandbox_app,
)

# Hypothesis draws strings from the literals of the code under test, among them the sandbox's
# fixed client secrets (herald/settings.py). Sent in a query, one lands in the test client's own
# request log line, and the secret watch would report a leak that is the fuzzer's, not Herald's.
_FIXED_SECRETS = frozenset(secret for _, secret in SANDBOX_CLIENTS.values())
_local_constants = providers._get_local_constants


def _constants_without_fixed_secrets() -> Any:  # hypothesis's private Constants
    constants = _local_constants()
    for secret in _FIXED_SECRETS & set(constants.strings):
        constants.strings.discard(secret)
    return constants


providers._get_local_constants = _constants_without_fixed_secrets
