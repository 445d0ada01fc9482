"""One settings object, read from the environment once per Lambda instance.

The plan's `.env` names (REDIS_HOST, REDIS_PORT, ..., PUBLISH_RETRY_DELAY) are accepted as
aliases so an existing environment keeps working.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import quote

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Platform = Literal["linkedin", "x", "facebook", "instagram", "threads"]

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "dev", "local"}
SANDBOX_CLIENTS = {
    "linkedin": ("sandbox-linkedin-client", "sandbox-linkedin-secret"),
    "x": ("sandbox-x-client", "sandbox-x-secret"),
    "meta": ("100000000000042", "sandbox-meta-app-secret"),
    "threads": ("990000000000042", "sandbox-threads-app-secret"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "production", validation_alias=AliasChoices("HERALD_ENV", "ENVIRONMENT")
    )
    service_name: str = Field("herald", validation_alias=AliasChoices("POWERTOOLS_SERVICE_NAME"))

    # --- AWS resources -------------------------------------------------------------------
    table_name: str = Field("herald", validation_alias=AliasChoices("TABLE_NAME"))
    queue_url: str = Field("", validation_alias=AliasChoices("PUBLISH_QUEUE_URL", "QUEUE_URL"))
    dlq_url: str = Field("", validation_alias=AliasChoices("PUBLISH_DLQ_URL", "DLQ_URL"))
    topic_arn: str = Field("", validation_alias=AliasChoices("EVENTS_TOPIC_ARN", "TOPIC_ARN"))
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    aws_timeout_seconds: float = 3.0
    # Set only locally (moto's server): boto3 reads it itself; Herald needs it to address the
    # media bucket by path, as a local endpoint has no per-bucket host names.
    aws_endpoint_url: str = Field("", validation_alias=AliasChoices("AWS_ENDPOINT_URL"))

    # --- Redis (the plan's REDIS_* names still work) -------------------------------------
    redis_url_env: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))
    redis_host: str = Field("127.0.0.1", validation_alias=AliasChoices("REDIS_HOST"))
    redis_port: int = Field(6379, validation_alias=AliasChoices("REDIS_PORT"))
    redis_db: int = Field(0, validation_alias=AliasChoices("REDIS_DB"))
    redis_password: SecretStr | None = Field(None, validation_alias=AliasChoices("REDIS_PASSWORD"))
    redis_tls: bool = Field(False, validation_alias=AliasChoices("REDIS_TLS"))
    # A dead Redis must cost a request tens of milliseconds, not seconds.
    redis_socket_timeout: float = Field(0.05, validation_alias=AliasChoices("REDIS_SOCKET_TIMEOUT"))
    redis_connect_timeout: float = Field(
        0.05, validation_alias=AliasChoices("REDIS_CONNECT_TIMEOUT")
    )

    # --- secrets ---------------------------------------------------------------------------
    # In AWS the names of Secrets Manager secrets; locally the values come from the environment.
    token_key_secret_name: str = Field("", validation_alias=AliasChoices("TOKEN_KEY_SECRET_NAME"))
    token_encryption_keys: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TOKEN_ENCRYPTION_KEYS")
    )
    platform_secret_prefix: str = Field("", validation_alias=AliasChoices("PLATFORM_SECRET_PREFIX"))
    secrets_max_age_seconds: int = 300
    linkedin_client_id: str = ""
    linkedin_client_secret: SecretStr | None = None
    x_client_id: str = ""
    x_client_secret: SecretStr | None = None
    meta_client_id: str = ""
    meta_client_secret: SecretStr | None = None
    # The Threads app id and secret (App settings > Basic > Threads App ID), not the Meta app's.
    threads_client_id: str = ""
    threads_client_secret: SecretStr | None = None

    # --- platforms ---------------------------------------------------------------------
    linkedin_auth_base: str = "https://www.linkedin.com"
    linkedin_api_base: str = "https://api.linkedin.com"
    # LinkedIn retires each monthly version about a year after its month (426 from then on);
    # herald.platforms.versions dates them and warns 60 days ahead. 202607 is the newest version
    # LinkedIn documents at the time of writing (docs/operating.md says how to move it).
    linkedin_version: str = Field("202607", pattern=r"^\d{6}(\.\d{2})?$")
    linkedin_organizations_enabled: bool = False
    x_auth_base: str = "https://x.com"
    x_api_base: str = "https://api.x.com"
    meta_dialog_base: str = "https://www.facebook.com"
    meta_graph_base: str = "https://graph.facebook.com"
    # Graph v27.0 was released on 2026-11-04; each version works until two years after the next.
    meta_graph_version: str = Field("v27.0", pattern=r"^v\d+\.\d+$")
    # Page videos are uploaded to graph-video (https://developers.facebook.com/docs/graph-api/
    # video-uploads: "Videos must be published to graph-video.facebook.com"); Instagram's video
    # bytes go to rupload (https://developers.facebook.com/documentation/instagram-platform/
    # content-publishing/resumable-uploads).
    meta_graph_video_base: str = "https://graph-video.facebook.com"
    meta_rupload_base: str = "https://rupload.facebook.com"
    # https://developers.facebook.com/documentation/threads/get-started/get-access-tokens-and-permissions
    # (the Authorization Window is on threads.com; the API answers on graph.threads.net and .com)
    threads_auth_base: str = "https://threads.com"
    threads_graph_base: str = "https://graph.threads.net"
    threads_graph_version: str = "v1.0"
    platform_timeout_seconds: float = 10.0
    # LinkedIn and X take an image's bytes, which Herald fetches from the post's image_url.
    image_max_bytes: int = 15 * 1024 * 1024

    # --- media library (herald.media) ----------------------------------------------------
    media_bucket: str = Field("", validation_alias=AliasChoices("MEDIA_BUCKET"))
    # The largest file a presigned upload accepts (its policy's content-length-range); X's and
    # LinkedIn's own limits per kind are checked when a post uses the file (herald.media.limits).
    media_max_bytes: int = 1024 * 1024 * 1024
    media_upload_seconds: int = 3600  # how long a presigned upload stays usable
    media_read_timeout_seconds: float = 30.0  # an S3 read of a media part (ranged GET)
    # An upload no post used expires after this (the bucket's lifecycle rule in template.yaml
    # and the record's TTL: keep the two equal).
    media_unused_days: int = 7
    # How long a target may wait for a platform to process its media (X video, LinkedIn video)
    # before it fails: the message comes back with DelaySeconds (at most 900) until then.
    media_processing_timeout_seconds: int = 3600
    # The API (publish now) waits in process for processing this short; longer, the post is
    # answered 202 and the worker finishes it.
    media_inline_wait_seconds: float = 5.0
    # A publish-now post whose files add up to more than this is handed to the worker at once
    # (202, `publishing`): uploading a large video inside the API's 29 s is a gamble, and the
    # worker's uploads resume across deliveries.
    media_inline_max_bytes: int = 20 * 1024 * 1024
    # How long a presigned GET handed to a platform that fetches the file itself (Instagram
    # images, Threads) stays valid: Meta fetches when the container is made and while it
    # processes, well within this; a leaked link dies soon after.
    media_url_seconds: int = 900
    # Only the local sandbox, which serves images on 127.0.0.1, needs this: anywhere else an
    # image_url naming a private address is a way into the VPC (herald.platforms.images).
    image_private_hosts: bool = Field(False, validation_alias=AliasChoices("IMAGE_PRIVATE_HOSTS"))

    # --- OAuth -------------------------------------------------------------------------
    public_api_url: str = Field(
        "http://127.0.0.1:8000", validation_alias=AliasChoices("PUBLIC_API_URL")
    )
    frontend_url: str = Field(
        "http://127.0.0.1:8000/app", validation_alias=AliasChoices("FRONTEND_URL")
    )
    oauth_state_ttl_seconds: int = 600
    linkedin_scopes: str = "openid profile w_member_social"
    x_scopes: str = "tweet.read tweet.write users.read offline.access media.write"
    meta_scopes: str = (
        "pages_show_list,pages_read_engagement,pages_manage_posts,business_management,"
        "instagram_basic,instagram_content_publish,read_insights,instagram_manage_insights"
    )
    # threads_manage_replies is what a thread's replies are published with, and
    # threads_manage_insights what the metrics sync reads a post's insights with
    # (https://developers.facebook.com/docs/threads/insights).
    threads_scopes: str = (
        "threads_basic,threads_content_publish,threads_manage_replies,threads_manage_insights"
    )
    # A LinkedIn token with no refresh token is flagged `expiring` this long before it ends.
    linkedin_expiry_notice_days: int = 7
    cors_origins: list[str] = Field(default_factory=list)

    # --- rate limits ("N/second|minute|hour|day") -------------------------------------
    rate_limit_enabled: bool = Field(True, validation_alias=AliasChoices("RATE_LIMIT_ENABLED"))
    rate_limit_oauth: str = "10/minute"
    rate_limit_publish: str = "20/hour"
    rate_limit_analytics: str = "100/minute"
    rate_limit_auth_failures: str = "5/minute"
    rate_limit_default: str = "300/minute"

    # --- publishing and scheduling -------------------------------------------------------
    publish_retry_attempts: int = Field(3, validation_alias=AliasChoices("PUBLISH_RETRY_ATTEMPTS"))
    publish_retry_delay: float = Field(1.0, validation_alias=AliasChoices("PUBLISH_RETRY_DELAY"))
    publish_deadline_seconds: float = 25.0
    # A `publishing` claim older than this belongs to a dead Lambda (the worker's timeout is 60 s,
    # the API's 29 s): another run may take the target over, reconciling before it posts.
    publish_claim_stale_seconds: float = 120.0
    # How far before the claim reconciliation looks for the post (platform clocks drift).
    publish_reconcile_skew_seconds: float = 120.0
    analytics_cache_seconds: int = 300
    # Engagement metrics (herald.metrics): how long a published post is followed, how long each
    # reading is kept (DynamoDB TTL), how many posts one hourly run reads at most, and how soon
    # a person may ask for one post's metrics again.
    metrics_track_days: int = 90
    metrics_retention_days: int = 400
    metrics_sync_max_posts: int = 2_000
    metrics_refresh_min_seconds: int = 300
    hashtag_limit: int = 5
    mention_limit: int = 20
    due_shards: int = 8
    lookahead_seconds: int = 180
    max_lateness_seconds: int = 3600
    schedule_skew_seconds: int = 30
    # Must equal the PublishQueue's maxReceiveCount in template.yaml: the receive that reaches it
    # is the last before SQS moves the message to the DLQ, so the worker gives up on that one.
    publish_max_receives: int = 5
    # The records of one SQS batch the worker publishes at once (herald.worker): posts due at the
    # same second go out together rather than one platform call apart. The event source
    # mapping's BatchSize in template.yaml, so a whole batch runs at once.
    worker_concurrency: int = 100
    # The worker keeps this much of its Lambda time for what follows the records: the batch's
    # events (no SNS request starts in its second half) and its answer. A record still running
    # then is reported failed, not cut off.
    worker_safety_ms: int = 3_000
    # A record is started only with this much of the invocation left (a platform call, and the
    # reconciliation that follows if its answer is lost); else it goes straight back to the queue.
    worker_record_budget_seconds: float = 20.0
    # A dispatch journal older than this belongs to a tick that died (the tick's timeout is 60 s).
    dispatch_journal_stale_seconds: int = 120
    # The tick starts no new chunk with less Lambda time left than this.
    tick_safety_ms: int = 5_000
    dispatch_parallel_chunks: int = 4
    # Claim ahead, fire on time: each message is delivered this long before its post is due, and
    # the worker claims the post and gets its credentials ready in the meantime, then makes the
    # platform call at the second (never before it; herald.worker). At least
    # DISPATCH_EARLY_SECONDS: template.yaml's batching window (MaximumBatchingWindowInSeconds),
    # which the event source mapping spends gathering a batch around a lone message. Plus
    # DISPATCH_EARLY_PER_100_SECONDS for every hundred posts due in the same second, so a burst
    # is received, claimed and held by the mapping's invocations before its second rather than
    # drained after it; at most DISPATCH_EARLY_MAX_SECONDS, which must leave a worker invocation
    # (60 s) its WORKER_RECORD_BUDGET_SECONDS and WORKER_SAFETY_MS after the hold. Three seconds,
    # not one: a burst's messages show up over a second or two (DelaySeconds is whole seconds, the
    # tick's sends spread over its chunks), and one that shows up after every invocation has
    # closed its window waits behind the batches they hold until the second.
    dispatch_early_seconds: float = 3.0
    dispatch_early_per_100_seconds: float = 2.0
    dispatch_early_max_seconds: float = 30.0
    # A post due sooner than this is queued by the API at once: the next tick may come too late.
    dispatch_on_create_seconds: int = 65
    idempotency_ttl_seconds: int = 86_400
    max_body_bytes: int = 256 * 1024

    @property
    def redis_url(self) -> str:
        if self.redis_url_env:
            return self.redis_url_env
        scheme = "rediss" if self.redis_tls else "redis"
        auth = ""
        if self.redis_password is not None and self.redis_password.get_secret_value():
            auth = ":" + quote(self.redis_password.get_secret_value(), safe="") + "@"
        return f"{scheme}://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def oauth_redirect_uri(self, provider: str) -> str:
        """Registered with each platform; nothing in a request can change it."""
        return f"{self.public_api_url.rstrip('/')}/api/v1/oauth/{provider}/callback"

    @model_validator(mode="after")
    def _sandbox_clients_outside_production(self) -> Settings:
        # Fixed sandbox app credentials so `make dev` and the tests need no configuration; they
        # are meaningless to the real platforms and never filled in for production.
        if self.environment == "production":
            return self
        for provider in ("linkedin", "x", "meta", "threads"):
            if not getattr(self, f"{provider}_client_id"):
                setattr(self, f"{provider}_client_id", SANDBOX_CLIENTS[provider][0])
                setattr(self, f"{provider}_client_secret", SecretStr(SANDBOX_CLIENTS[provider][1]))
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        keys = self.token_encryption_keys
        if keys is not None and keys.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError("TOKEN_ENCRYPTION_KEYS holds a placeholder value in production")
        if self.image_private_hosts:
            raise ValueError(
                "IMAGE_PRIVATE_HOSTS is for the local sandbox: in production it would let an "
                "image_url reach into the VPC"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read once per process (Lambda instance); tests call `get_settings.cache_clear()`."""
    return Settings()
