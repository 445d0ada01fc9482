"""Cases the fuzzer found, kept as they were found."""

from __future__ import annotations

from herald.api.app import create_app
from herald.container import Container
from tests.fakes.api_stack import ApiCaller, make_tenant


def test_every_operation_documents_its_errors_as_problem_details() -> None:
    spec = create_app().openapi()

    for item in spec["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            assert "application/problem+json" in responses["default"]["content"]
            if "422" in responses:
                assert list(responses["422"]["content"]) == ["application/problem+json"]


def test_a_validation_failure_is_sent_as_documented(
    api_call: ApiCaller, oauth_container: Container, sandbox_app: object
) -> None:
    tenant = make_tenant(oauth_container, sandbox_app, "Fuzzed Bakery")
    # Found as: GET /api/v1/oauth/0/authorize?redirect=null&redirect=null
    response = api_call(
        "GET", "/api/v1/oauth/0/authorize?redirect=null&redirect=null", headers=tenant.headers
    )
    documented = create_app().openapi()["paths"]["/api/v1/oauth/{platform}/authorize"]["get"]

    assert response.status_code == 422
    assert response.headers["content-type"] in documented["responses"]["422"]["content"]
