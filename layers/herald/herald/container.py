"""The composition root: every client and repository is built here once per Lambda instance.

Nothing is built at import. Each attribute is made on first use and then reused across
invocations; tests pass overrides (a moto table, a real Redis, an httpx client on a
MockTransport, a frozen clock) as keyword arguments. The engine's ports (`engine_ports`) are
built once, from the attributes as they are then: a swap after the engine's first use goes
through `override`, which has them built again.
"""

from __future__ import annotations

from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from herald.clock import Clock, SystemClock
from herald.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence

    import httpx
    import redis.asyncio as aioredis

    from herald.accounts import Account, Credentials, PlatformName
    from herald.analytics import AnalyticsPorts
    from herald.auth import VerifiedKeys
    from herald.errors import FieldError
    from herald.events import TopicEvents
    from herald.idempotency import IdempotencyStore
    from herald.media.library import MediaLibrary
    from herald.media.model import Attachment, MediaRef
    from herald.media.streams import S3Files
    from herald.media_checks import ImageProbe, ProbedImage
    from herald.metrics.readers import MetricsReader
    from herald.metrics.sync import MetricsSyncPorts
    from herald.oauth.confirmations import ConfirmationStore
    from herald.oauth.flows import FlowPorts
    from herald.oauth.revocation import RevocationPorts
    from herald.oauth.service import OAuthPorts
    from herald.oauth.state import StateStore
    from herald.platforms.base import Publisher
    from herald.ports import PostPublisher
    from herald.publish_now import PublishNowPorts
    from herald.publishing import CredentialsFor, EnginePorts
    from herald.queue import SqsPublishQueue
    from herald.ratelimit import RateLimiter
    from herald.retry_post import RetryPorts
    from herald.scheduled_posts import SchedulingPorts
    from herald.store.accounts import AccountRepository
    from herald.store.businesses import BusinessRepository
    from herald.store.metrics import MetricsRepository
    from herald.store.posts import PostRepository
    from herald.store.schedule import ScheduleRepository
    from herald.tick import TickPorts
    from herald.tokens import TokenPorts
    from herald.vault import Vault


class Container:
    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or get_settings()
        # cached_property stores into __dict__, so an override simply pre-fills it.
        self.__dict__.update(overrides)

    def override(self, **overrides: Any) -> None:
        """Swap attributes of a container in use (a test's outage, and its end)."""
        self.__dict__.update(overrides)
        self.__dict__.pop("engine_ports", None)

    @cached_property
    def clock(self) -> Clock:
        return SystemClock()

    # --- AWS -------------------------------------------------------------------------------
    @cached_property
    def boto_session(self) -> Any:
        import boto3

        return boto3.session.Session(region_name=self.settings.aws_region)

    @cached_property
    def boto_config(self) -> Any:
        from botocore.config import Config

        timeout = self.settings.aws_timeout_seconds
        return Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "max_attempts": 3},
            # The tick runs up to 40 conditional writes at once; the default pool keeps 10.
            max_pool_connections=50,
        )

    @cached_property
    def raw_table(self) -> Any:
        resource = self.boto_session.resource("dynamodb", config=self.boto_config)
        return resource.Table(self.settings.table_name)

    @cached_property
    def table(self) -> Any:
        # DynamoDB out of reach is a DependencyUnavailable (a 503) for every repository.
        from herald.store.guard import GuardedTable

        return GuardedTable(self.raw_table)

    @cached_property
    def sqs(self) -> Any:
        return self.boto_session.client("sqs", config=self.boto_config)

    @cached_property
    def s3(self) -> Any:
        from botocore.config import Config

        # Presigned uploads are POSTed by browsers straight to the bucket: SigV4, and the
        # bucket's own host name in AWS; a local endpoint (moto) is addressed by path.
        style: Any = "path" if self.settings.aws_endpoint_url else "virtual"
        # A media part is megabytes, not a DynamoDB item: its read may take longer than the
        # other clients' 3 s before the first byte (moto's server takes seconds on a large file).
        config = self.boto_config.merge(
            Config(
                signature_version="s3v4",
                s3={"addressing_style": style},
                read_timeout=self.settings.media_read_timeout_seconds,
            )
        )
        return self.boto_session.client("s3", config=config)

    @cached_property
    def media_files(self) -> S3Files:
        from herald.media.streams import S3Files

        return S3Files(self.s3, self.settings.media_bucket)

    @cached_property
    def media(self) -> MediaLibrary:
        from herald.media.library import MediaLibrary
        from herald.store.media import MediaRepository

        return MediaLibrary(
            MediaRepository(self.table), self.media_files, self.clock, self.settings
        )

    @cached_property
    def sns(self) -> Any:
        return self.boto_session.client("sns", config=self.boto_config)

    @cached_property
    def secretsmanager(self) -> Any:
        return self.boto_session.client("secretsmanager", config=self.boto_config)

    # --- Redis and HTTP -------------------------------------------------------------------
    @cached_property
    def redis(self) -> aioredis.Redis:
        import redis.asyncio as aioredis

        s = self.settings
        client: aioredis.Redis = aioredis.Redis.from_url(
            s.redis_url,
            socket_timeout=s.redis_socket_timeout,
            socket_connect_timeout=s.redis_connect_timeout,
            health_check_interval=30,
            decode_responses=False,
        )
        return client

    @cached_property
    def publishers(self) -> dict[PlatformName, Publisher]:
        from herald.platforms.registry import build_publishers

        self.platform_version_warnings  # noqa: B018 - checked once, as the publishers are built
        return build_publishers(self.settings, self.http)

    @cached_property
    def platform_version_warnings(self) -> list[str]:
        """The configured LinkedIn and Graph versions, checked against their documented end
        once per instance: a warning and a PlatformVersionAgeing metric for each one near it."""
        from herald.platforms import versions
        from herald.platforms.version_warnings import announce

        today = self.clock.now().date()
        s = self.settings
        found = versions.statuses(s.linkedin_version, s.meta_graph_version, today)
        return announce(found, today, s.service_name)

    @cached_property
    def image_probe(self) -> ImageProbe:
        """Reads an Instagram post's image at creation (herald.media_checks)."""
        from herald.media_checks import INSTAGRAM_MAX_BYTES, FetchingProbe
        from herald.platforms.images import ImageFetcher

        fetcher = ImageFetcher(
            self.http,
            max_bytes=INSTAGRAM_MAX_BYTES,
            allow_private=self.settings.image_private_hosts,
        )
        return FetchingProbe(fetcher)

    @cached_property
    def metrics_readers(self) -> dict[PlatformName, MetricsReader]:
        from herald.metrics.readers import build_readers

        return build_readers(self.settings, self.http)

    @cached_property
    def http(self) -> httpx.AsyncClient:
        from http.cookiejar import DefaultCookiePolicy

        import httpx

        timeout = httpx.Timeout(self.settings.platform_timeout_seconds, connect=3.0)
        client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        # One client serves every business: a cookie a platform (or an image host) sets for one
        # must not ride along on another's requests. Platforms authenticate by token alone.
        client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        return client

    # --- repositories -------------------------------------------------------------------
    @cached_property
    def businesses(self) -> BusinessRepository:
        from herald.store.businesses import BusinessRepository

        return BusinessRepository(self.table, self.clock)

    @cached_property
    def schedule(self) -> ScheduleRepository:
        from herald.store.schedule import ScheduleRepository

        return ScheduleRepository(self.table, self.clock, self.settings)

    @cached_property
    def ratelimiter(self) -> RateLimiter:
        from herald.ratelimit import RateLimiter, policies_from_settings

        # No clock passed: the policies run on Redis' own clock, the same for every instance.
        return RateLimiter(self.redis, policies_from_settings(self.settings))

    @cached_property
    def verified_keys(self) -> VerifiedKeys:
        from herald.auth import VerifiedKeys

        return VerifiedKeys()

    @cached_property
    def posts(self) -> PostRepository:
        from herald.store.posts import PostRepository

        return PostRepository(self.table)

    @cached_property
    def metrics(self) -> MetricsRepository:
        from herald.store.metrics import MetricsRepository

        return MetricsRepository(self.table)

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        from herald.store.idempotency import DynamoIdempotencyStore

        return DynamoIdempotencyStore(self.table)

    @cached_property
    def accounts(self) -> AccountRepository:
        from herald.store.accounts import AccountRepository

        return AccountRepository(self.table, self.clock)

    @cached_property
    def secrets_provider(self) -> Any:
        # Powertools' provider caches each secret for the max_age its callers pass.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=self.secretsmanager)

    @cached_property
    def vault(self) -> Vault:
        from herald.vault import Vault, key_loader

        provider = self.secrets_provider if self.settings.token_key_secret_name else None
        return Vault(key_loader(self.settings, provider))

    @cached_property
    def oauth_states(self) -> StateStore:
        from herald.oauth.state import StateStore

        return StateStore(self.redis, self.settings.oauth_state_ttl_seconds)

    @cached_property
    def oauth_confirmations(self) -> ConfirmationStore:
        from herald.oauth.confirmations import ConfirmationStore

        return ConfirmationStore(self.redis, self.settings.oauth_state_ttl_seconds)

    # --- ports (herald.ports) and the use cases' bundles of them ------------------------------
    # Properties, not cached: each is made from the attributes as they are now (tests and the
    # local stack swap a container's clock after building it), and costs an object or two.
    @property
    def events(self) -> TopicEvents:
        from herald.events import TopicEvents

        return TopicEvents(lambda: self.sns, self.settings.topic_arn, self.clock)

    @property
    def publish_queue(self) -> SqsPublishQueue:
        from herald.queue import SqsPublishQueue

        return SqsPublishQueue(lambda: self.sqs, self.settings.queue_url)

    @property
    def tick_ports(self) -> TickPorts:
        from herald.store.journal import DispatchJournal
        from herald.tick import TickPorts

        return TickPorts(
            settings=self.settings,
            due=self.schedule,
            journal=DispatchJournal(self.table),
            queue=self.publish_queue,
            businesses=self.businesses,
            events=self.events,
            clock=self.clock,
        )

    @property
    def flow_ports(self) -> FlowPorts:
        from herald.oauth.flows import FlowPorts

        return FlowPorts(
            settings=self.settings,
            clock=self.clock,
            http=lambda: self.http,
            secrets=lambda: self.secrets_provider,
        )

    @property
    def oauth_ports(self) -> OAuthPorts:
        from herald.oauth.service import OAuthPorts

        return OAuthPorts(
            settings=self.settings,
            accounts=self.accounts,
            vault=self.vault,
            states=self.oauth_states,
            confirmations=self.oauth_confirmations,
            flows=self.flow_ports,
            clock=self.clock,
        )

    @property
    def revocation_ports(self) -> RevocationPorts:
        from herald.oauth.revocation import RevocationPorts

        return RevocationPorts(accounts=self.accounts, vault=self.vault, flows=self.flow_ports)

    @property
    def token_ports(self) -> TokenPorts:
        from herald.tokens import TokenPorts

        return TokenPorts(
            settings=self.settings,
            accounts=self.accounts,
            vault=self.vault,
            redis=lambda: self.redis,
            flows=self.flow_ports,
            events=self.events,
            clock=self.clock,
        )

    @property
    def analytics_ports(self) -> AnalyticsPorts:
        from herald.analytics import AnalyticsPorts

        return AnalyticsPorts(
            settings=self.settings, metrics=self.metrics, redis=self.redis, clock=self.clock
        )

    @property
    def metrics_sync_ports(self) -> MetricsSyncPorts:
        from herald.metrics.sync import MetricsSyncPorts

        return MetricsSyncPorts(
            settings=self.settings,
            accounts=self.accounts,
            metrics=self.metrics,
            posts=self.posts,
            readers=lambda: self.metrics_readers,
            tokens=lambda: self.token_ports,
        )

    @cached_property
    def engine_ports(self) -> EnginePorts:
        """Once per container, unlike the bundles above: the worker reads it for every record
        and publish-now for every request. What it holds reads the clients it needs (SNS, SQS,
        S3, httpx) only when it first sends or publishes."""
        from herald.publishing import EnginePorts

        events = self.events
        queue = self.publish_queue
        return EnginePorts(
            settings=self.settings,
            posts=self.posts,
            comments=self.posts,
            accounts=self.accounts,
            publishers=_PublishersOnFirstUse(self),
            media=_MediaFilesOnFirstUse(self),
            tokens=_Tokens(self),
            events=events,
            outbox=events.outbox,
            queue=queue,
            redelivery=queue,
            clock=self.clock,
        )

    @property
    def engine(self) -> PostPublisher:
        from herald.publishing import publish_post

        return partial(publish_post, self.engine_ports)

    @property
    def publish_now_ports(self) -> PublishNowPorts:
        from herald.publish_now import PublishNowPorts

        return PublishNowPorts(
            settings=self.settings,
            posts=self.posts,
            accounts=self.accounts,
            media=_MediaOnFirstUse(self),
            image_probe=self.image_probe,
            queue=self.publish_queue,
            clock=self.clock,
            tokens=self.engine_ports.tokens,
            publish=self.engine,
        )

    @property
    def retry_ports(self) -> RetryPorts:
        from herald.retry_post import RetryPorts

        return RetryPorts(
            settings=self.settings, posts=self.posts, clock=self.clock, publish=self.engine
        )

    @property
    def scheduling_ports(self) -> SchedulingPorts:
        from herald.scheduled_posts import SchedulingPorts

        return SchedulingPorts(
            settings=self.settings,
            schedule=self.schedule,
            accounts=self.accounts,
            media=_MediaOnFirstUse(self),
            image_probe=_ProbeOnFirstUse(self),
            clock=self.clock,
            tick=lambda: self.tick_ports,
        )

    async def aclose(self) -> None:
        """Close the async clients this container made (the local stack and tests call it)."""
        if "redis" in self.__dict__:
            await self.__dict__.pop("redis").aclose()
        if "http" in self.__dict__:
            await self.__dict__.pop("http").aclose()


class _MediaOnFirstUse:
    """The media library (herald.ports.MediaAttacher), built with its S3 client only when a
    post attaches a file, as when the use cases read `container.media` themselves."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def resolve(
        self, business_id: str, refs: Sequence[MediaRef]
    ) -> tuple[tuple[Attachment, ...], list[FieldError]]:
        return self._container.media.resolve(business_id, refs)

    def mark_used(self, attachments: Sequence[Attachment]) -> None:
        self._container.media.mark_used(attachments)


class _PublishersOnFirstUse:
    """herald.ports.Publishers: the platforms' publishers (and their HTTP client) built when
    the first target is published, not when a skipped message is read."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def __getitem__(self, platform: PlatformName) -> Publisher:
        return self._container.publishers[platform]


class _MediaFilesOnFirstUse:
    """The media bucket (herald.media.model's ChunkSource and UrlSource), its S3 client built
    when a target's attachment is first read or linked."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def chunks(
        self, key: str, chunk_size: int, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        return self._container.media_files.chunks(key, chunk_size, start, end)

    def presigned_get(self, key: str, expires_seconds: int) -> str:
        # herald.media.model.UrlSource: the link a platform that fetches media itself is sent.
        return self._container.media_files.presigned_get(key, expires_seconds)


class _Tokens:
    """herald.ports.Tokens over herald.tokens, its ports (the accounts, the vault, the refresh
    lock in Redis, the OAuth flows) built from this container when credentials are asked for."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def credentials(self, business_id: str, account_id: str) -> Awaitable[Credentials]:
        from herald.tokens import credentials_for

        return credentials_for(self._container.token_ports, business_id, account_id)

    def credentials_from(self, accounts: Mapping[tuple[str, str], Account]) -> CredentialsFor:
        # The token ports (the vault and its Secrets Manager client, the Redis client) are built
        # on the first credential asked for, not for every batch: a batch whose records are all
        # skipped (duplicates, cancelled posts) needs none of them.
        from herald.tokens import credentials_from

        made: CredentialsFor | None = None

        async def credentials(business_id: str, account_id: str) -> Credentials:
            nonlocal made
            if made is None:
                made = credentials_from(self._container.token_ports, accounts)
            return await made(business_id, account_id)

        return credentials


class _ProbeOnFirstUse:
    """The image probe (and its HTTP client), built only when an Instagram image is read:
    editing a post's text reads none."""

    def __init__(self, container: Container) -> None:
        self._container = container

    async def probe(self, url: str) -> ProbedImage:
        return await self._container.image_probe.probe(url)


_container: Container | None = None


def get_container() -> Container:
    global _container
    if _container is None:
        _container = Container()
    return _container


def set_container(container: Container | None) -> None:
    """For tests and the local stack: install the container the handlers will use."""
    global _container
    _container = container
