"""The reader interface every network's metrics module implements, and read failures.

A reader reads the targets of ONE account at a time, so it can batch them the way its network
allows (X: 100 tweets a request; LinkedIn organizations: every share in one request) and stop at
the first rate-limit answer instead of spending the rest of the account's budget.

A failure for the whole account (token revoked, rate limited, network down) is raised as a
`PlatformError` and turned into a `ReadError` by `read_error`; a failure for one post (deleted,
not enough viewers yet) is that post's `ReadError` in the reader's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from herald.accounts import Credentials, PlatformName
from herald.metrics.model import MetricTarget, ReadError, Reading
from herald.platforms.base import ErrorKind, PlatformError

if TYPE_CHECKING:
    import httpx

    from herald.settings import Settings

Outcome = Reading | ReadError


@dataclass(frozen=True)
class MetricsAccount:
    creds: Credentials
    scopes: frozenset[str]


class MetricsReader(Protocol):
    platform: PlatformName

    async def read(
        self, account: MetricsAccount, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        """Each target's outcome by its platform post id. Raises PlatformError when nothing of
        this account can be read now."""
        ...


# Token failures on each network, as opposed to a permission the token lacks: Graph 190/102,
# LinkedIn's and X's 401.
_TOKEN_CODES = ("190", "102")


def read_error(exc: PlatformError) -> ReadError:
    """A failure in the error model, as what it means for metrics."""
    name = {
        "x": "X",
        "linkedin": "LinkedIn",
        "facebook": "Facebook",
        "instagram": "Instagram",
        "threads": "Threads",
    }
    network = name.get(exc.platform, exc.platform)
    code = exc.platform_code or ""
    if exc.kind is ErrorKind.RATE_LIMITED:
        return ReadError(
            "rate_limited",
            f"{network} rate limit reached; read again later",
            retry=True,
            retry_after=exc.retry_after,
        )
    if exc.kind in (ErrorKind.TRANSIENT, ErrorKind.AMBIGUOUS):
        return ReadError("unreachable", f"{network} did not answer: {exc.detail}", retry=True)
    if exc.kind is ErrorKind.AUTH_REVOKED:
        # No status: Herald's own token check (expired, revoked, undecryptable) said so.
        if exc.status in (None, 401) or code.split("/")[0] in _TOKEN_CODES:
            return ReadError(
                "auth_revoked", f"the {network} account must be reconnected", retry=False
            )
        return ReadError(
            "permission",
            f"{network} refused the metrics to this token ({code or exc.status}): {exc.detail}",
            retry=False,
        )
    if exc.status == 403:
        return ReadError(
            "permission", f"{network} refused the metrics to this token: {exc.detail}", retry=False
        )
    if exc.status == 404 or code == "100/33":
        return ReadError("gone", f"the post no longer exists on {network}", retry=False)
    return ReadError("platform_error", f"{network}: {exc.detail}", retry=True)


def build_readers(settings: Settings, http: httpx.AsyncClient) -> dict[PlatformName, MetricsReader]:
    from herald.metrics.linkedin import LinkedInMetricsReader
    from herald.metrics.meta import FacebookMetricsReader, InstagramMetricsReader
    from herald.metrics.threads import ThreadsMetricsReader
    from herald.metrics.x import XMetricsReader

    graph, version = settings.meta_graph_base, settings.meta_graph_version
    return {
        "x": XMetricsReader(http, api_base=settings.x_api_base),
        "linkedin": LinkedInMetricsReader(
            http, api_base=settings.linkedin_api_base, version=settings.linkedin_version
        ),
        "facebook": FacebookMetricsReader(http, graph_base=graph, version=version),
        "instagram": InstagramMetricsReader(http, graph_base=graph, version=version),
        "threads": ThreadsMetricsReader(
            http, graph_base=settings.threads_graph_base, version=settings.threads_graph_version
        ),
    }
