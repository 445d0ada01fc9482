"""In AWS the token keys and the platform app credentials come from Secrets Manager."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.fernet import Fernet

from herald import aio
from herald.container import Container
from herald.errors import DependencyUnavailable
from herald.local.template import LocalResources
from herald.oauth.flows import client_credentials
from herald.settings import Settings
from tests.fakes.oauth import KEY_A, KEY_B


def _container(resources: LocalResources, aws: Any, **env: Any) -> Container:
    settings = Settings(HERALD_ENV="production", TABLE_NAME=resources.table_name, **env)
    return Container(settings, boto_session=aws)


def test_the_vault_reads_its_key_list_from_the_secret(resources: LocalResources, aws: Any) -> None:
    aws.client("secretsmanager").create_secret(
        Name="herald/token-key", SecretString=json.dumps([KEY_B, KEY_A])
    )
    container = _container(resources, aws, TOKEN_KEY_SECRET_NAME="herald/token-key")

    sealed = container.vault.encrypt("t")

    assert Fernet(KEY_B.encode()).decrypt(sealed.encode()) == b"t"


def test_a_new_key_list_reaches_a_warm_instance_after_max_age(
    resources: LocalResources, aws: Any
) -> None:
    sm = aws.client("secretsmanager")
    sm.create_secret(Name="herald/token-key", SecretString=KEY_A)
    container = _container(
        resources, aws, TOKEN_KEY_SECRET_NAME="herald/token-key", secrets_max_age_seconds=0
    )
    old = container.vault.encrypt("t")
    sm.put_secret_value(SecretId="herald/token-key", SecretString=f"{KEY_B},{KEY_A}")

    new = container.vault.encrypt("u")

    assert Fernet(KEY_B.encode()).decrypt(new.encode()) == b"u"
    assert container.vault.decrypt(old) == "t"


def test_an_unreadable_key_secret_is_a_dependency_error(
    resources: LocalResources, aws: Any
) -> None:
    container = _container(resources, aws, TOKEN_KEY_SECRET_NAME="herald/missing")
    with pytest.raises(DependencyUnavailable):
        container.vault.encrypt("t")


def test_platform_app_credentials_come_from_the_platform_secret(
    resources: LocalResources, aws: Any
) -> None:
    aws.client("secretsmanager").create_secret(
        Name="acme/platform/x",
        SecretString=json.dumps({"client_id": "real-id", "client_secret": "real-secret"}),
    )
    container = _container(resources, aws, PLATFORM_SECRET_PREFIX="acme/platform/")

    creds = aio.run(client_credentials(container.flow_ports, "x"))

    assert (creds.client_id, creds.client_secret) == ("real-id", "real-secret")
    assert "real-secret" not in repr(creds)


def test_an_unfilled_platform_secret_is_a_clear_configuration_error(
    resources: LocalResources, aws: Any
) -> None:
    aws.client("secretsmanager").create_secret(
        Name="acme/platform/linkedin",
        SecretString=json.dumps({"client_id": "REPLACE_ME", "client_secret": "generated"}),
    )
    container = _container(resources, aws, PLATFORM_SECRET_PREFIX="acme/platform/")
    with pytest.raises(DependencyUnavailable, match="not configured"):
        aio.run(client_credentials(container.flow_ports, "linkedin"))
