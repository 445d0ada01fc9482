"""One publisher per platform, all on the same `httpx.AsyncClient` and base URLs from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herald.platforms.images import ImageFetcher
from herald.platforms.linkedin import LinkedInPublisher
from herald.platforms.meta import FacebookPublisher, InstagramPublisher
from herald.platforms.threads import ThreadsPublisher
from herald.platforms.x import XPublisher

if TYPE_CHECKING:
    import httpx

    from herald.accounts import PlatformName
    from herald.platforms.base import Publisher
    from herald.settings import Settings


def build_publishers(settings: Settings, http: httpx.AsyncClient) -> dict[PlatformName, Publisher]:
    graph_base, version = settings.meta_graph_base, settings.meta_graph_version
    images = ImageFetcher(
        http, max_bytes=settings.image_max_bytes, allow_private=settings.image_private_hosts
    )
    return {
        "linkedin": LinkedInPublisher(
            http,
            api_base=settings.linkedin_api_base,
            version=settings.linkedin_version,
            images=images,
        ),
        "x": XPublisher(http, api_base=settings.x_api_base, images=images),
        "facebook": FacebookPublisher(
            http, graph_base=graph_base, version=version, video_base=settings.meta_graph_video_base
        ),
        "instagram": InstagramPublisher(
            http,
            graph_base=graph_base,
            version=version,
            rupload_base=settings.meta_rupload_base,
            url_seconds=settings.media_url_seconds,
        ),
        "threads": ThreadsPublisher(
            http,
            graph_base=settings.threads_graph_base,
            version=settings.threads_graph_version,
            url_seconds=settings.media_url_seconds,
        ),
    }
