"""Create the AWS resources that `template.yaml` declares, in moto (its server or `mock_aws`).

Reading the template rather than repeating it means the local stack and the tests cannot drift
from what `sam deploy` creates. Intrinsic functions are resolved just enough for the properties
used here (table schema, queue attributes, redrive policy, the media bucket's settings).
"""

from __future__ import annotations

import json
import secrets as secrets_module
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[4]
TEMPLATE = ROOT / "template.yaml"
_ALPHANUMERIC = string.ascii_letters + string.digits
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "DelaySeconds",
    "MaximumMessageSize",
)


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    fn = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if fn == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {fn: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return loaded


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: res.get("Properties", {})
        for name, res in template.get("Resources", {}).items()
        if res.get("Type") == kind
    }


@dataclass
class LocalResources:
    table_name: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    topic_arns: dict[str, str] = field(default_factory=dict)
    secret_arns: dict[str, str] = field(default_factory=dict)
    secret_names: dict[str, str] = field(default_factory=dict)
    bucket_names: dict[str, str] = field(default_factory=dict)

    @property
    def media_bucket(self) -> str:
        return self.bucket_names.get("MediaBucket", "")

    @property
    def queue_url(self) -> str:
        return self.queue_urls["PublishQueue"]

    @property
    def dlq_url(self) -> str:
        return self.queue_urls["PublishDeadLetterQueue"]

    @property
    def topic_arn(self) -> str:
        return self.topic_arns["EventsTopic"]


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return refs.get(arg, arg)
        if fn == "Fn::GetAtt":
            return refs.get(f"{arg[0]}.{arg[1]}", "")
        if fn == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            for key, val in refs.items():
                text = text.replace("${" + key + "}", val)
            return text
    if isinstance(value, dict):
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


def create_table(dynamodb: Any, props: dict[str, Any], name: str) -> None:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**kwargs)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def create_resources(
    session: Any, *, prefix: str = "herald", template: dict[str, Any] | None = None
) -> LocalResources:
    """Create the table, queues (dead-letter queues first), topics and secrets' shells."""
    template = template or load_template()
    refs: dict[str, str] = {"AWS::StackName": prefix, "AWS::Region": session.region_name}
    for name, parameter in (template.get("Parameters") or {}).items():
        if isinstance(parameter.get("Default"), str):
            refs.setdefault(name, parameter["Default"])
    tables = resources_of(template, "AWS::DynamoDB::Table")
    ((table_logical, table_props),) = tables.items()
    table_name = f"{prefix}-table"
    refs[table_logical] = table_name
    create_table(session.client("dynamodb"), table_props, table_name)
    out = LocalResources(table_name=table_name)

    sqs = session.client("sqs")
    queues = resources_of(template, "AWS::SQS::Queue")
    # Queues without a redrive policy (the DLQs) first, so their ARNs resolve for the rest.
    for logical, props in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]):
        attrs: dict[str, str] = {}
        for key in _QUEUE_ATTRIBUTES:
            if key in props:
                attrs[key] = str(props[key])
        if "RedrivePolicy" in props:
            attrs["RedrivePolicy"] = json.dumps(_resolve(props["RedrivePolicy"], refs))
        url = sqs.create_queue(QueueName=f"{prefix}-{logical}", Attributes=attrs)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        out.queue_urls[logical], out.queue_arns[logical] = url, arn
        refs[logical], refs[f"{logical}.Arn"] = url, arn

    sns = session.client("sns")
    for logical in resources_of(template, "AWS::SNS::Topic"):
        out.topic_arns[logical] = sns.create_topic(Name=f"{prefix}-{logical}")["TopicArn"]

    s3 = session.client("s3")
    for logical, props in resources_of(template, "AWS::S3::Bucket").items():
        name = f"{prefix}-{logical.lower()}"
        create_bucket(s3, name, _resolve(props, refs))
        out.bucket_names[logical] = name

    secrets = session.client("secretsmanager")
    for logical, props in resources_of(template, "AWS::SecretsManager::Secret").items():
        name = _resolve(props.get("Name"), refs) or f"{prefix}/{logical}"
        kwargs: dict[str, Any] = {"Name": name, "Description": props.get("Description", "")}
        generate = props.get("GenerateSecretString")
        if generate is not None:
            kwargs["SecretString"] = generated_secret(generate)
        out.secret_arns[logical] = secrets.create_secret(**kwargs)["ARN"]
        out.secret_names[logical] = name
    return out


_API_NAMES = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}


def create_bucket(s3: Any, name: str, props: dict[str, Any]) -> None:
    """The bucket with the settings the template gives it: encryption, the public access block,
    lifecycle rules (tag filters as S3's API spells them) and CORS."""
    if s3.meta.region_name == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name}
        )
    encryption = props.get("BucketEncryption")
    if encryption:
        # CloudFormation's ServerSideEncryptionByDefault is the API's Apply... of the same.
        rules = [
            {_API_NAMES.get(k, k): v for k, v in rule.items()}
            for rule in encryption["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    lifecycle = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    if lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle]}
        )
    cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
    if cors:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [_cors(r) for r in cors]})


def _cors(rule: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rule.items() if k != "MaxAge"}
    origins = out.get("AllowedOrigins", [])
    if isinstance(origins, str):  # a CommaDelimitedList parameter, resolved to its default
        out["AllowedOrigins"] = [o.strip() for o in origins.split(",")]
    if "MaxAge" in rule:
        out["MaxAgeSeconds"] = int(rule["MaxAge"])
    return out


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule in the shape of S3's PutBucketLifecycleConfiguration."""
    out: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule.get("Status", "Enabled")}
    tags = rule.get("TagFilters") or []
    if len(tags) == 1:
        out["Filter"] = {"Tag": tags[0]}
    elif tags:
        out["Filter"] = {"And": {"Tags": tags}}
    else:
        out["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(abort["DaysAfterInitiation"])
        }
    return out


def generated_secret(spec: dict[str, Any]) -> str:
    """What CloudFormation's GenerateSecretString makes: a random string, or a JSON template
    with the random string under GenerateStringKey."""
    length = int(spec.get("PasswordLength", 32))
    value = "".join(secrets_module.choice(_ALPHANUMERIC) for _ in range(length))
    template = spec.get("SecretStringTemplate")
    if not template:
        return value
    document: dict[str, Any] = json.loads(template)
    document[spec["GenerateStringKey"]] = value
    return json.dumps(document)
