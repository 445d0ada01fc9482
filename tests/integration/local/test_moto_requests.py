"""The local stack's moto server dispatches each request as moto does (herald.local.moto_requests).

Each check runs as moto ships and patched, and the answers must be the same; the patch is undone
after each, so every other test sees moto as it ships.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

import boto3
import pytest
from moto import mock_aws

from herald.local import moto_requests, moto_sqs

HOSTS = [
    None,
    "moto_api",
    "sqs",
    "sqs.us-east-1.amazonaws.com",
    "dynamodb",
    "dynamodb.eu-west-1.amazonaws.com",
    "s3.amazonaws.com",
    "nothing.example.com",
]


def both[T](check: Callable[[], T]) -> tuple[T, T]:
    return check(), moto_requests.patched(check)


def test_each_host_is_dispatched_to_the_backend_moto_finds_for_it_asked_once_or_twice() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    def backends() -> list[Any]:
        app = DomainDispatcherApplication(create_backend_app)
        return [app.get_backend_for_host(h) for _ in range(2) for h in HOSTS]

    stock, patched = both(backends)
    assert patched == stock
    assert stock[HOSTS.index("sqs.us-east-1.amazonaws.com")] == "sqs"


def test_a_host_no_backend_matches_is_reported_every_time_as_moto_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    def unknown() -> tuple[Any, str]:
        app = DomainDispatcherApplication(create_backend_app)
        found = [app.get_backend_for_host("nowhere.amazonaws.com") for _ in range(2)]
        return found, capsys.readouterr().out

    stock, patched = both(unknown)
    assert patched == stock
    assert stock[1].count("Unable to find appropriate backend") == 2


def test_method_names_and_underscored_names_are_moto_own() -> None:
    import moto.core.responses as responses
    import moto.sqs.models as sqs_models
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs.responses import SQSResponse

    names = ["ReceiveMessage", "ApproximateNumberOfMessagesNotVisible", "KmsMasterKeyId", ""]

    def answers() -> Any:
        # Each module's own name for the function, as moto's code there calls it.
        method_names = vars(responses)["method_names_from_class"]
        underscored = [vars(m)["camelcase_to_underscores"] for m in (responses, sqs_models)]
        methods = [method_names(c) for c in (SQSResponse, DynamoHandler)]
        methods[0].append("changed by its caller")  # each caller gets a list of its own
        return (
            [method_names(c) for c in (SQSResponse, DynamoHandler)],
            [[f(n) for n in names] for f in underscored],
        )

    stock, patched = both(answers)
    assert patched == stock
    assert "receive_message" in stock[0][0]


def test_sqs_answers_through_moto_dispatch_are_moto_own_to_the_receipt_handle() -> None:
    from moto.moto_api._internal import mock_random

    def scenario() -> Any:
        with mock_aws():
            mock_random.seed(11)
            sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
            url = sqs.create_queue(QueueName="publish")["QueueUrl"]
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "MessageBody": f"post {n}"} for n in range(5)],
            )
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])[
                "Messages"
            ]
            deleted = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in got],
            )
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            return (
                [
                    {k: v for k, v in m.items() if k != "Attributes"}
                    | {"Sent": "SentTimestamp" in m["Attributes"]}
                    for m in got
                ],
                sorted(s["Id"] for s in deleted["Successful"]),
                {k: v for k, v in attributes["Attributes"].items() if "Timestamp" not in k},
            )

    def patched() -> Any:
        return moto_sqs.patched(lambda: moto_requests.patched(scenario))

    stock = scenario()
    assert patched() == stock
    assert len(stock[0]) == 5


def test_against_a_moto_without_the_expected_internals_it_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto.core.responses as responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    shipped = DomainDispatcherApplication.__dict__["get_backend_for_host"]
    monkeypatch.setattr(responses, "method_names_from_class", lambda clazz: [])
    assert moto_requests.apply() is False
    assert DomainDispatcherApplication.__dict__["get_backend_for_host"] is shipped


@pytest.mark.parametrize(
    ("level", "written"), [(logging.NOTSET, True), (logging.INFO, True), (logging.WARNING, False)]
)
def test_an_access_log_line_is_written_whenever_moto_writes_it(
    level: int, written: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import werkzeug._internal
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    logger = logging.getLogger("werkzeug")
    saved = logger.level, logger.propagate

    class Lines(logging.Handler):
        lines: ClassVar[list[str]] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage().split("] ", 1)[-1])  # without the date

    def request() -> list[str]:
        Lines.lines = []
        logger.setLevel(level)
        # As in a new server: werkzeug sets an unset logger to INFO on its first line.
        monkeypatch.setattr(werkzeug._internal, "_logger", None)
        handler = MotoRequestHandler.__new__(MotoRequestHandler)
        handler.client_address = ("127.0.0.1", 4566)
        handler.command, handler.path, handler.request_version = "POST", "/", "HTTP/1.1"
        handler.log_request(200, 123)
        return Lines.lines

    lines = Lines()
    logger.addHandler(lines)
    logger.propagate = False
    try:
        stock, patched = both(request)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    assert patched == stock
    assert stock == (['"POST / HTTP/1.1" 200 123'] if written else [])


def test_quiet_keeps_errors_and_drops_the_access_log() -> None:
    logger = logging.getLogger("werkzeug")
    saved = logger.level
    try:
        moto_requests.quiet()
        assert logger.isEnabledFor(logging.ERROR)
        assert not logger.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(saved)
