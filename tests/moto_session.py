"""moto built once per test session, and put back to that state before each test that uses it.

Making what template.yaml declares costs about a second a test on this suite's machines (parsing
the template, four clients, a dozen calls), so it happens once. Before each test that asks for
`aws`, what earlier tests left is cleared: the items out of the table, every message out of the
queues (delayed and in flight too), the queues' attributes back to the template's, and any table,
queue, topic, subscription or secret a test made, deleted. What that cannot undo (a call to
another service, a changed table, topic or template secret) marks the state dirty, and the next
test starts from a new moto, as every test used to: correct first, fast when it can be.

The mock itself is active only while a test that asked for it runs (moto keeps its data between
a stop and the next start), so tests without `aws` see no patched credentials or transport.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.client
import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict

from herald.local.template import LocalResources, create_resources, load_template

REGION = "us-east-1"


def _names(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


# Operations whose effects the reset undoes (with the resources a test created itself). A call
# to anything else, to another service or to these with a template resource's settings as the
# target, makes the next test start from a new moto.
_UNDONE: dict[str, frozenset[str]] = {
    "dynamodb": _names(
        "GetItem PutItem UpdateItem DeleteItem Query Scan BatchGetItem BatchWriteItem",
        "TransactGetItems TransactWriteItems ExecuteStatement BatchExecuteStatement",
        "ExecuteTransaction DescribeTable ListTables DescribeTimeToLive CreateTable DeleteTable",
    ),
    "sqs": _names(
        "SendMessage SendMessageBatch ReceiveMessage DeleteMessage DeleteMessageBatch",
        "ChangeMessageVisibility ChangeMessageVisibilityBatch GetQueueUrl GetQueueAttributes",
        "SetQueueAttributes ListQueues ListQueueTags ListDeadLetterSourceQueues PurgeQueue",
        "CreateQueue DeleteQueue",
    ),
    "sns": _names(
        "Publish PublishBatch ListTopics GetTopicAttributes ListSubscriptions",
        "ListSubscriptionsByTopic GetSubscriptionAttributes SetSubscriptionAttributes",
        "Subscribe ConfirmSubscription Unsubscribe CreateTopic DeleteTopic",
    ),
    "secretsmanager": _names(
        "GetSecretValue BatchGetSecretValue DescribeSecret ListSecrets ListSecretVersionIds",
        "CreateSecret DeleteSecret PutSecretValue UpdateSecret",
    ),
    "sts": _names("GetCallerIdentity"),
}
# Allowed only on a secret a test made: a template secret's value stays what the build gave it.
_SECRET_WRITES = _names("PutSecretValue UpdateSecret DeleteSecret")

# The queue attributes a test may change and the reset sets back.
_QUEUE_SETTINGS = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "Policy",
)


@dataclass
class MotoSession:
    """The resources, and what the state must go back to."""

    session: boto3.session.Session = field(
        default_factory=lambda: boto3.session.Session(region_name=REGION)
    )
    resources: LocalResources | None = None
    dirty: bool = False
    builds: int = 0
    _template: dict[str, Any] = field(default_factory=load_template)
    _clients: dict[str, Any] = field(default_factory=dict)
    _keys: list[str] = field(default_factory=list)
    _queue_settings: dict[str, dict[str, str]] = field(default_factory=dict)
    _subscriptions: set[str] = field(default_factory=set)
    _secret_ids: set[str] = field(default_factory=set)
    _recording: bool = False

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    # --- what tests call -------------------------------------------------------------------

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if not self._recording:
            return
        if operation not in _UNDONE.get(service, frozenset()) or (
            operation in _SECRET_WRITES and params.get("SecretId") in self._secret_ids
        ):
            self.dirty = True

    # --- back to the state the build left ---------------------------------------------------

    def restore(self) -> LocalResources:
        """Called with the mock active, before a test; returns the resources it may use."""
        self._recording = False
        try:
            if self.resources is None or self.dirty or not self._cleared():
                self._build()
        finally:
            self._recording = True
        assert self.resources is not None
        return self.resources

    def _build(self) -> None:
        BackendDict.reset()
        resources = create_resources(self.session, template=self._template)
        table = self.client("dynamodb").describe_table(TableName=resources.table_name)["Table"]
        self._keys = [key["AttributeName"] for key in table["KeySchema"]]
        sqs = self.client("sqs")
        self._queue_settings = {
            url: self._settings_of(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]))
            for url in resources.queue_urls.values()
        }
        self._subscriptions = {
            s["SubscriptionArn"] for s in self.client("sns").list_subscriptions()["Subscriptions"]
        }
        self._secret_ids = set(resources.secret_arns.values()) | set(
            resources.secret_names.values()
        )
        self.resources = resources
        self.dirty = False
        self.builds += 1

    @staticmethod
    def _settings_of(answer: dict[str, Any]) -> dict[str, str]:
        attributes: dict[str, str] = answer["Attributes"]
        return {k: v for k, v in attributes.items() if k in _QUEUE_SETTINGS}

    def _cleared(self) -> bool:
        """Clears what tests left; False when a template resource is gone (rebuild)."""
        assert self.resources is not None
        return (
            self._clear_tables(self.resources.table_name)
            and self._clear_queues(set(self.resources.queue_urls.values()))
            and self._clear_topics(set(self.resources.topic_arns.values()))
            and self._clear_secrets(set(self.resources.secret_names.values()))
        )

    def _clear_tables(self, table_name: str) -> bool:
        dynamodb = self.client("dynamodb")
        names = set(dynamodb.list_tables()["TableNames"])
        for extra in names - {table_name}:
            dynamodb.delete_table(TableName=extra)
        if table_name not in names:
            return False
        aliases = {f"#k{i}": key for i, key in enumerate(self._keys)}
        scan: dict[str, Any] = {
            "TableName": table_name,
            "ProjectionExpression": ", ".join(aliases),
            "ExpressionAttributeNames": aliases,
        }
        while True:
            page = dynamodb.scan(**scan)
            items = page.get("Items", [])
            for start in range(0, len(items), 25):
                requests = [{"DeleteRequest": {"Key": item}} for item in items[start : start + 25]]
                dynamodb.batch_write_item(RequestItems={table_name: requests})
            if "LastEvaluatedKey" not in page:
                return True
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _clear_queues(self, urls: set[str]) -> bool:
        sqs = self.client("sqs")
        listed = set(sqs.list_queues().get("QueueUrls", []))
        for extra in listed - urls:
            sqs.delete_queue(QueueUrl=extra)
        if not urls <= listed:
            return False
        with _purge_at_will():
            for url in urls:
                sqs.purge_queue(QueueUrl=url)
                now = self._settings_of(
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
                )
                if now != self._queue_settings[url]:
                    back = dict(self._queue_settings[url])
                    for name in now.keys() - back.keys():
                        back[name] = ""  # an attribute the template leaves unset
                    sqs.set_queue_attributes(QueueUrl=url, Attributes=back)
        return True

    def _clear_topics(self, arns: set[str]) -> bool:
        sns = self.client("sns")
        for subscription in sns.list_subscriptions()["Subscriptions"]:
            if subscription["SubscriptionArn"] not in self._subscriptions:
                sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        listed = {topic["TopicArn"] for topic in sns.list_topics()["Topics"]}
        for extra in listed - arns:
            sns.delete_topic(TopicArn=extra)
        return arns <= listed

    def _clear_secrets(self, names: set[str]) -> bool:
        secrets = self.client("secretsmanager")
        listed = {
            s["Name"] for s in secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
        }
        for extra in listed - names:
            secrets.delete_secret(SecretId=extra, ForceDeleteWithoutRecovery=True)
        return names <= listed


@contextmanager
def _purge_at_will() -> Iterator[None]:
    """SQS refuses a second purge within 60 s, and moto copies it; the reset's purges are not the
    behaviour under test (Herald never purges), so they alone skip that rule."""
    name = "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"
    before = os.environ.get(name)
    os.environ[name] = "false"
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


_AWS_REQUEST = threading.RLock()


@pytest.fixture(scope="session")
def moto_session() -> MotoSession:
    return MotoSession()


@pytest.fixture
def aws(moto_session: MotoSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in-process, with the template's resources, and each DynamoDB request made atomic.

    DynamoDB applies every request, conditional writes included, atomically; moto's in-process
    backends do not when two threads call at once (both conditions can pass on one item). One lock
    around each request restores DynamoDB's guarantee while still letting threads interleave
    between requests, which is where the races under test happen.
    """
    real_call = botocore.client.BaseClient._make_api_call

    def atomic_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        moto_session.record(service, operation_name, api_params)
        # Only DynamoDB: an SQS long poll holding the lock would stall every other thread.
        if service != "dynamodb":
            return real_call(self, operation_name, api_params)
        with _AWS_REQUEST:
            return real_call(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", atomic_call)
    mock = mock_aws()
    mock.start(reset=False)
    try:
        moto_session.restore()
        yield moto_session.session
    finally:
        mock.stop(remove_data=False)


@pytest.fixture
def resources(aws: Any, moto_session: MotoSession) -> LocalResources:
    assert moto_session.resources is not None
    return copy.deepcopy(moto_session.resources)
