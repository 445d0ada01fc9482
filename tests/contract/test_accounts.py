"""FakeAccounts (tests/fakes/publishing.py) against AccountRepository on moto: the reads and the
status change the publishing engine relies on, one suite for both."""

from __future__ import annotations

from typing import Any

import pytest

from herald.accounts import Account, AccountStatus
from herald.container import Container
from herald.errors import NotFound
from tests.fakes.publishing import FakeAccounts, account


class RealAccounts:
    """AccountRepository, with the fake's `add` spelt as the repository's `upsert`."""

    def __init__(self, container: Container) -> None:
        self.repository = container.accounts

    def add(self, acc: Account) -> None:
        self.repository.upsert(acc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repository, name)


@pytest.fixture(params=["dynamodb", "fake"])
def accounts(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeAccounts()
    return RealAccounts(request.getfixturevalue("container"))


def seen(acc: Account) -> tuple[Any, ...]:
    """What the engine reads of an account."""
    return (
        acc.account_id,
        acc.business_id,
        acc.platform,
        acc.external_id,
        acc.status,
        acc.status_reason,
    )


def test_an_added_account_reads_back(accounts: Any) -> None:
    added = account("biz_a", "acc_1", "x")
    accounts.add(added)

    assert seen(accounts.get("biz_a", "acc_1")) == seen(added)


def test_another_business_does_not_see_the_account(accounts: Any) -> None:
    accounts.add(account("biz_a", "acc_1", "x"))

    with pytest.raises(NotFound):
        accounts.get("biz_b", "acc_1")


def test_a_missing_account_is_not_found(accounts: Any) -> None:
    with pytest.raises(NotFound):
        accounts.get("biz_a", "acc_missing")


def test_a_business_lists_its_own_accounts_only(accounts: Any) -> None:
    accounts.add(account("biz_a", "acc_1", "x"))
    accounts.add(account("biz_a", "acc_2", "linkedin"))
    accounts.add(account("biz_b", "acc_3", "x"))

    listed = accounts.list_for_business("biz_a")

    assert sorted(a.account_id for a in listed) == ["acc_1", "acc_2"]


def test_a_status_change_is_returned_and_kept(accounts: Any) -> None:
    accounts.add(account("biz_a", "acc_1", "x"))

    changed = accounts.mark_status("biz_a", "acc_1", AccountStatus.NEEDS_REAUTH, "token revoked")

    assert (changed.status, changed.status_reason) == (AccountStatus.NEEDS_REAUTH, "token revoked")
    assert seen(accounts.get("biz_a", "acc_1")) == seen(changed)
