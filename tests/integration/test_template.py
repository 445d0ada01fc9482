"""template.yaml declares what the design needs, and herald.local.template builds it in moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.local.eventbridge import function_timeout
from herald.local.template import LocalResources, load_template
from herald.settings import Settings

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def events_of(function: str) -> dict[str, Any]:
    events: dict[str, Any] = RESOURCES[function]["Properties"]["Events"]
    return events


def policy_names(function: str) -> set[str]:
    return {next(iter(p)) for p in RESOURCES[function]["Properties"]["Policies"]}


def test_queue_visibility_is_at_least_six_worker_timeouts_plus_the_batching_window() -> None:
    worker_timeout = function_timeout(TEMPLATE, "PublishWorkerFunction")
    window = events_of("PublishWorkerFunction")["Publish"]["Properties"][
        "MaximumBatchingWindowInSeconds"
    ]

    visibility = RESOURCES["PublishQueue"]["Properties"]["VisibilityTimeout"]

    assert visibility >= 6 * worker_timeout + window


def test_created_publish_queue_carries_the_templates_visibility_timeout(
    aws: Any, resources: LocalResources
) -> None:
    attrs = aws.client("sqs").get_queue_attributes(
        QueueUrl=resources.queue_url, AttributeNames=["All"]
    )["Attributes"]

    assert int(attrs["VisibilityTimeout"]) >= 6 * function_timeout(
        TEMPLATE, "PublishWorkerFunction"
    )
    assert attrs["VisibilityTimeout"] == str(
        RESOURCES["PublishQueue"]["Properties"]["VisibilityTimeout"]
    )


def test_created_publish_queue_redrives_to_the_dead_letter_queue_after_five_receives(
    aws: Any, resources: LocalResources
) -> None:
    attrs = aws.client("sqs").get_queue_attributes(
        QueueUrl=resources.queue_url, AttributeNames=["RedrivePolicy"]
    )["Attributes"]

    policy = json.loads(attrs["RedrivePolicy"])

    assert policy["deadLetterTargetArn"] == resources.queue_arns["PublishDeadLetterQueue"]
    assert int(policy["maxReceiveCount"]) == 5


def test_the_worker_gives_up_on_the_receive_that_sqs_redrives_after() -> None:
    from herald.settings import Settings

    redrive = RESOURCES["PublishQueue"]["Properties"]["RedrivePolicy"]

    assert Settings().publish_max_receives == redrive["maxReceiveCount"]


def test_created_table_has_the_due_expiry_calendar_and_metrics_indexes_with_ttl(
    aws: Any, resources: LocalResources
) -> None:
    client = aws.client("dynamodb")
    table = client.describe_table(TableName=resources.table_name)["Table"]
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    ttl = client.describe_time_to_live(TableName=resources.table_name)

    assert set(indexes) == {"due", "expiry", "calendar", "metrics"}
    assert [k["AttributeName"] for k in indexes["due"]["KeySchema"]] == ["due_pk", "due_sk"]
    assert [k["AttributeName"] for k in indexes["expiry"]["KeySchema"]] == ["exp_pk", "exp_sk"]
    assert [k["AttributeName"] for k in indexes["metrics"]["KeySchema"]] == ["mt_pk", "mt_sk"]
    # What the sync reads comes with the index: no post item is read per post.
    assert set(indexes["metrics"]["Projection"]["NonKeyAttributes"]) >= {"targets", "metrics"}
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_platform_secrets_are_created_as_placeholders_under_the_platform_prefix(
    aws: Any, resources: LocalResources
) -> None:
    secrets = aws.client("secretsmanager")

    for logical, platform in (
        ("LinkedInClientSecret", "linkedin"),
        ("XClientSecret", "x"),
        ("MetaClientSecret", "meta"),
        ("ThreadsClientSecret", "threads"),
    ):
        name = resources.secret_names[logical]
        value = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
        assert name == f"herald/platform/{platform}"
        assert value["client_id"] == "REPLACE_ME"
        assert len(value["client_secret"]) >= 20


def test_events_topic_is_created_from_the_template(resources: LocalResources) -> None:
    assert resources.topic_arn.endswith(":herald-EventsTopic")


def test_no_secret_value_is_written_in_the_template() -> None:
    for name, resource in RESOURCES.items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            assert "SecretString" not in resource["Properties"], name
            assert "GenerateSecretString" in resource["Properties"], name


def test_tick_runs_dispatch_every_minute_and_the_token_sweep_and_metrics_sync_every_hour() -> None:
    schedules = sorted(
        (e["Properties"]["Schedule"], json.loads(e["Properties"]["Input"])["task"])
        for e in events_of("SchedulerTickFunction").values()
    )

    assert set(schedules) == {
        ("rate(1 minute)", "dispatch"),
        ("rate(1 hour)", "refresh_tokens"),
        ("rate(1 hour)", "sync_metrics"),
    }
    assert schedules.count(("rate(1 hour)", "refresh_tokens")) == 1
    assert schedules.count(("rate(1 hour)", "sync_metrics")) == 1


def test_the_minute_rules_dispatch_every_shard_of_the_due_index_once() -> None:
    from herald.settings import Settings
    from herald.tick import Part

    inputs = [
        json.loads(e["Properties"]["Input"])
        for e in events_of("SchedulerTickFunction").values()
        if e["Properties"]["Schedule"] == "rate(1 minute)"
    ]
    shards = Settings().due_shards

    covered = sorted(s for event in inputs for s in Part.of(event).shards(shards))

    assert covered == list(range(shards))
    assert sum(Part.of(event).part == 0 for event in inputs) == 1  # one recovers the journals


def test_worker_reports_partial_batch_failures() -> None:
    publish = events_of("PublishWorkerFunction")["Publish"]["Properties"]

    assert publish["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_worker_publishes_a_whole_batch_at_once() -> None:
    from herald.settings import Settings

    publish = events_of("PublishWorkerFunction")["Publish"]["Properties"]
    env = RESOURCES["PublishWorkerFunction"]["Properties"]["Environment"]["Variables"]

    assert int(env["WORKER_CONCURRENCY"]) == publish["BatchSize"]
    assert Settings().worker_concurrency == publish["BatchSize"]


def test_messages_come_a_batching_window_early_so_a_lone_post_is_not_held_past_its_second() -> None:
    from herald.settings import Settings

    publish = events_of("PublishWorkerFunction")["Publish"]["Properties"]

    assert Settings().dispatch_early_seconds == publish["MaximumBatchingWindowInSeconds"]


def test_a_batch_of_more_than_ten_records_has_the_batching_window_sqs_requires() -> None:
    publish = events_of("PublishWorkerFunction")["Publish"]["Properties"]

    assert publish["BatchSize"] <= 10 or publish["MaximumBatchingWindowInSeconds"] >= 1


@pytest.mark.parametrize(
    "path", ["/api/v1/{proxy+}", "/health", "/openapi.json", "/docs", "/app/{proxy+}"]
)
def test_http_api_routes_reach_the_api_function(path: str) -> None:
    routes = {e["Properties"]["Path"] for e in events_of("ApiFunction").values()}

    assert path in routes


def test_each_function_gets_only_the_policies_its_work_needs() -> None:
    # The API queues a post due within the minute itself; the tick queues the rest; the worker
    # sends a post whose media is still processing again, with a delay.
    for function in ("ApiFunction", "SchedulerTickFunction", "PublishWorkerFunction"):
        assert "SQSSendMessagePolicy" in policy_names(function)
    for function in ("ApiFunction", "SchedulerTickFunction", "PublishWorkerFunction"):
        assert {"DynamoDBCrudPolicy", "SNSPublishMessagePolicy"} <= policy_names(function)
        assert "AWSSecretsManagerGetSecretValuePolicy" in policy_names(function)


def test_the_media_bucket_is_private_encrypted_and_expires_unused_uploads() -> None:
    bucket = TEMPLATE["Resources"]["MediaBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                  "RestrictPublicBuckets"))  # fmt: skip
    (sse,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    unused = rules["expire-unused-uploads"]
    assert unused["TagFilters"] == [{"Key": "herald-unused", "Value": "true"}]
    assert unused["ExpirationInDays"] == Settings(HERALD_ENV="test").media_unused_days


def test_the_media_bucket_is_created_locally_as_the_template_declares(
    aws: Any, resources: LocalResources
) -> None:
    s3 = aws.client("s3")
    name = resources.media_bucket
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    (rule,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert {r["ID"] for r in rules} == {"expire-unused-uploads", "abort-incomplete-multipart"}


def test_functions_run_on_python_312_in_the_vpc() -> None:
    function_globals = TEMPLATE["Globals"]["Function"]

    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["VpcConfig"]["SubnetIds"] == {"Ref": "SubnetIds"}
    assert function_globals["Environment"]["Variables"]["REDIS_URL"]["Fn::Sub"].startswith(
        "rediss://"
    )


def test_env_json_sets_only_variables_the_template_declares() -> None:
    # `sam local` ignores an env.json variable that the template does not declare.
    from pathlib import Path

    env = json.loads((Path(__file__).resolve().parents[2] / "env.json").read_text())
    declared = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for scope, variables in env.items():
        assert set(variables) <= declared, scope
