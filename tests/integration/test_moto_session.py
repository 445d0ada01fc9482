"""moto's resources are made once per session; before each test, what the last one left is gone."""

from __future__ import annotations

from typing import Any

from herald.local.template import LocalResources
from tests.moto_session import MotoSession


def put_item(aws: Any, resources: LocalResources) -> None:
    aws.client("dynamodb").put_item(
        TableName=resources.table_name, Item={"pk": {"S": "left"}, "sk": {"S": "behind"}}
    )


def test_items_left_in_the_table_are_gone_for_the_next_test(
    aws: Any, resources: LocalResources, moto_session: MotoSession
) -> None:
    put_item(aws, resources)

    moto_session.restore()

    assert aws.client("dynamodb").scan(TableName=resources.table_name)["Count"] == 0


def test_messages_delayed_in_flight_or_waiting_are_gone(
    aws: Any, resources: LocalResources, moto_session: MotoSession
) -> None:
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="delayed", DelaySeconds=900)
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="in flight")
    sqs.receive_message(QueueUrl=resources.queue_url, VisibilityTimeout=900)
    sqs.send_message(QueueUrl=resources.dlq_url, MessageBody="waiting")

    moto_session.restore()
    moto_session.restore()  # twice within a minute: the reset's purge is not refused

    for url in (resources.queue_url, resources.dlq_url):
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "0"
        assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"
        assert counts["ApproximateNumberOfMessagesDelayed"] == "0"


def test_a_queues_changed_attributes_go_back_to_the_templates(
    aws: Any, resources: LocalResources, moto_session: MotoSession
) -> None:
    sqs = aws.client("sqs")
    before = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["All"])
    sqs.set_queue_attributes(QueueUrl=resources.queue_url, Attributes={"VisibilityTimeout": "0"})

    moto_session.restore()

    after = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["All"])
    assert after["Attributes"]["VisibilityTimeout"] == before["Attributes"]["VisibilityTimeout"]


def test_what_a_test_made_for_itself_is_deleted(
    aws: Any, resources: LocalResources, moto_session: MotoSession
) -> None:
    sqs, sns, secrets = aws.client("sqs"), aws.client("sns"), aws.client("secretsmanager")
    probe = sqs.create_queue(QueueName="probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=resources.topic_arn, Protocol="sqs", Endpoint=probe_arn["Attributes"]["QueueArn"]
    )
    sns.create_topic(Name="probe")
    secrets.create_secret(Name="probe", SecretString="x")

    moto_session.restore()

    assert probe not in sqs.list_queues().get("QueueUrls", [])
    assert sns.list_subscriptions()["Subscriptions"] == []
    assert {t["TopicArn"] for t in sns.list_topics()["Topics"]} == set(
        resources.topic_arns.values()
    )
    assert "probe" not in {s["Name"] for s in secrets.list_secrets()["SecretList"]}


def test_what_the_reset_cannot_undo_rebuilds_moto(
    aws: Any, resources: LocalResources, moto_session: MotoSession
) -> None:
    builds = moto_session.builds
    name = resources.secret_names["TokenEncryptionKeySecret"]
    aws.client("secretsmanager").put_secret_value(SecretId=name, SecretString="changed")
    put_item(aws, resources)

    moto_session.restore()

    assert moto_session.builds == builds + 1
    value = aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    assert value != "changed"
    assert aws.client("dynamodb").scan(TableName=resources.table_name)["Count"] == 0


def test_a_deleted_template_resource_is_made_again(
    aws: Any, resources: LocalResources, moto_session: MotoSession
) -> None:
    aws.client("sqs").delete_queue(QueueUrl=resources.dlq_url)

    again = moto_session.restore()

    assert again.dlq_url in aws.client("sqs").list_queues()["QueueUrls"]
