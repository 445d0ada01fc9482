"""template.yaml's guards on the HTTP API: JSON access logs kept for a bounded time, and a
reserved concurrency that caps the API function so a flood cannot starve the tick and the worker.
"""

from __future__ import annotations

import json
from typing import Any

from herald.local.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]


def access_log_settings() -> dict[str, Any]:
    settings: dict[str, Any] = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]
    return settings


def test_access_logs_go_to_a_log_group_of_the_stack_with_a_retention() -> None:
    destination = access_log_settings()["DestinationArn"]

    assert destination == {"Fn::GetAtt": ["HttpApiAccessLogs", "Arn"]}
    group = RESOURCES["HttpApiAccessLogs"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "AccessLogRetentionInDays"}
    assert PARAMETERS["AccessLogRetentionInDays"]["Default"] == 30
    assert 30 in PARAMETERS["AccessLogRetentionInDays"]["AllowedValues"]


def test_each_access_log_line_is_json_with_request_id_route_status_latency_and_ip() -> None:
    line = json.loads(access_log_settings()["Format"])

    assert line["requestId"] == "$context.requestId"
    assert line["route"] == "$context.routeKey"
    assert line["status"] == "$context.status"
    assert line["latencyMs"] == "$context.responseLatency"
    assert line["ip"] == "$context.identity.sourceIp"


def test_access_logs_hold_no_query_string_and_no_header_but_the_user_agent() -> None:
    # The OAuth callback's code and state travel in the query; API keys in a header.
    values = set(json.loads(access_log_settings()["Format"]).values())

    assert "$context.path" in values
    assert not any("querystring" in v.lower() or "header" in v.lower() for v in values)


def test_the_api_function_reserves_concurrency_by_default() -> None:
    reserved = RESOURCES["ApiFunction"]["Properties"]["ReservedConcurrentExecutions"]

    assert reserved == {
        "Fn::If": [
            "ReservesApiConcurrency",
            {"Ref": "ApiReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert PARAMETERS["ApiReservedConcurrency"]["Default"] == 50


def test_zero_reserves_nothing_rather_than_throttling_the_api_to_a_halt() -> None:
    # ReservedConcurrentExecutions 0 would stop the function: 0 means the property is left out.
    assert TEMPLATE["Conditions"]["ReservesApiConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiReservedConcurrency"}, "0"]}]
    }
    assert PARAMETERS["ApiReservedConcurrency"]["MinValue"] == 0
