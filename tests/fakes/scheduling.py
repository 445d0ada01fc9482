"""Fakes and builders for the schedule, tick and worker tests.

`FakePublisher` keeps the posts it accepted, so a test asserts "published once" on the platform's
side, and answers `find_recent` from them, as a real platform's timeline would.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from herald.accounts import PLATFORMS, Account, AccountStatus, Credentials, PlatformName
from herald.clock import isoformat
from herald.container import Container
from herald.ids import new_id
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, Published
from herald.posts import Post, PostStatus, Target
from tests.conftest import load_event

Step = str | Exception | Callable[[], None]  # "ok", an error to raise, or a side effect


@dataclass
class FakePublisher:
    platform: PlatformName
    script: list[Step] = field(default_factory=list)
    accepted: list[tuple[str, Content]] = field(default_factory=list)
    calls: int = 0

    # First comments: what was commented (account, parent post id, text), and what the next
    # comment calls do (an exception to raise, or a callable run after the comment lands).
    comments: list[tuple[str, str, str]] = field(default_factory=list)
    comment_script: list[Step] = field(default_factory=list)

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        step = self.comment_script.pop(0) if self.comment_script else "ok"
        if isinstance(step, Exception):
            raise step
        self.comments.append((creds.account_id, parent_id, text))
        if callable(step):
            step()
        return f"{parent_id}-comment-{len(self.comments)}"

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        for i, said in enumerate(self.comments):
            if said == (creds.account_id, parent_id, text):
                return f"{parent_id}-comment-{i + 1}"
        return None

    def fail_next(self, *steps: Step) -> FakePublisher:
        self.script.extend(steps)
        return self

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        post_id = f"{self.platform}-{len(self.accepted) + 1}"
        self.accepted.append((creds.account_id, content))
        if callable(step):
            step()  # e.g. the Lambda dying after the platform accepted
        return Published(post_id, f"https://{self.platform}.example/{post_id}", (post_id,))

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        for i, (account_id, accepted) in enumerate(self.accepted):
            if account_id == creds.account_id and accepted == content:
                post_id = f"{self.platform}-{i + 1}"
                return Published(post_id, f"https://{self.platform}.example/{post_id}")
        return None


def transient(platform: PlatformName = "linkedin") -> PlatformError:
    return PlatformError(platform, ErrorKind.TRANSIENT, "503 from the platform", status=503)


def install_publishers(container: Container) -> dict[str, FakePublisher]:
    fakes: dict[str, FakePublisher] = {p: FakePublisher(p) for p in PLATFORMS}
    container.__dict__["publishers"] = fakes
    return fakes


def connect_account(
    container: Container, business_id: str, platform: PlatformName = "linkedin"
) -> str:
    account_id = new_id("acc")
    container.accounts.upsert(
        Account(
            account_id=account_id,
            business_id=business_id,
            platform=platform,
            external_id=f"urn:li:person:{account_id}",
            display_name="Acme",
            status=AccountStatus.CONNECTED,
            access_token_enc=container.vault.encrypt("access-token"),
            details={"author_urn": f"urn:li:person:{account_id}"},
        )
    )
    return account_id


def pending_post(
    container: Container,
    business_id: str,
    account_ids: list[str],
    at: datetime,
    *,
    text: str = "Fresh bread at nine",
    platform: PlatformName = "linkedin",
    first_comment: str | None = None,
) -> Post:
    """A pending post stored straight through the repository (the API's checks are tested
    apart), so a test can put one in the past or in a crowd."""
    now = isoformat(container.clock.now())
    post = Post(
        post_id=new_id("post"),
        business_id=business_id,
        status=PostStatus.PENDING,
        content=Content(text=text, first_comment=first_comment),
        targets={a: Target(account_id=a, platform=platform) for a in account_ids},
        created_at=now,
        updated_at=now,
        scheduled_for=isoformat(at),
    ).with_comments()
    return container.schedule.create(post)


def at(container: Container, seconds: float) -> datetime:
    return container.clock.now() + timedelta(seconds=seconds)


_SQS = load_event("sqs_batch.json")


def sqs_record(
    body: str | dict[str, Any], *, message_id: str = "m-1", receive_count: int = 1
) -> dict[str, Any]:
    """One record shaped like the stored sample, with this body and receive count."""
    record: dict[str, Any] = copy.deepcopy(_SQS["Records"][0])
    record["messageId"] = message_id
    record["body"] = body if isinstance(body, str) else json.dumps(body)
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(_SQS)
    event["Records"] = list(records)
    return event


def received_to_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A ReceiveMessage result as Lambda's event source mapping hands it to the function."""
    record = sqs_record(
        message["Body"],
        message_id=message["MessageId"],
        receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
    )
    record["receiptHandle"] = message["ReceiptHandle"]
    record["eventSourceARN"] = queue_arn
    return record


def drain(container: Container, queue_url: str | None = None) -> list[dict[str, Any]]:
    """Every message visible now (ignoring delays is SQS's job, not ours)."""
    url = queue_url or container.settings.queue_url
    messages: list[dict[str, Any]] = []
    while True:
        got = container.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return messages
        messages.extend(got)


class SentLog:
    """Every message the code under test hands to SendMessageBatch, with its delay, in order.

    Read from botocore's parameter hook, so it sees delayed messages that SQS (moto) will not
    return until their delay has really passed."""

    def __init__(self, container: Container) -> None:
        self.messages: list[tuple[dict[str, Any], int]] = []
        container.sqs.meta.events.register(
            "before-parameter-build.sqs.SendMessageBatch", self._record
        )

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            self.messages.append((json.loads(entry["MessageBody"]), entry.get("DelaySeconds", 0)))

    @property
    def post_ids(self) -> list[str]:
        return [body["post_id"] for body, _ in self.messages]

    def delay_of(self, post_id: str) -> int:
        (delay,) = [d for body, d in self.messages if body["post_id"] == post_id]
        return delay


class LambdaKilled(BaseException):
    """The Lambda runtime stopping mid-invocation: nothing in Herald may catch it (it is not an
    Exception), and unlike KeyboardInterrupt it does not stop the test session."""
