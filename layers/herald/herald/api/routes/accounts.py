"""`GET /accounts` and `DELETE /accounts/{id}`: the business's connected accounts (never tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from herald.accounts import Account
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.fields import MAX_ID_LENGTH
from herald.api.ratelimit import RateLimit

router = APIRouter(tags=["accounts"], dependencies=[RateLimit("default")])

# Longer would not fit a DynamoDB key: a 422, not a ValidationException from the table.
AccountIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]


class AccountOut(BaseModel):
    account_id: str
    platform: str
    external_id: str
    display_name: str
    status: str
    status_reason: str | None
    scopes: list[str]
    token_expires_at: str | None
    connected_at: str
    updated_at: str
    details: dict[str, str]

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            account_id=account.account_id,
            platform=account.platform,
            external_id=account.external_id,
            display_name=account.display_name,
            status=account.status.value,
            status_reason=account.status_reason,
            scopes=list(account.scopes),
            token_expires_at=account.token_expires_at,
            connected_at=account.connected_at,
            updated_at=account.updated_at,
            details=account.details,
        )


class AccountList(BaseModel):
    accounts: list[AccountOut]


class AccountDeleted(BaseModel):
    account_id: str
    deleted: bool
    revoked_at_platform: bool


@router.get("/accounts", response_model=AccountList, summary="The business's connected accounts")
async def list_accounts(principal: PrincipalDep, container: ContainerDep) -> AccountList:
    accounts = await run_in_threadpool(container.accounts.list_for_business, principal.business_id)
    accounts.sort(key=lambda a: (a.platform, a.display_name))
    return AccountList(accounts=[AccountOut.of(a) for a in accounts])


@router.get("/accounts/{account_id}", response_model=AccountOut, summary="One connected account")
async def get_account(
    account_id: AccountIdPath, principal: PrincipalDep, container: ContainerDep
) -> AccountOut:
    account = await run_in_threadpool(container.accounts.get, principal.business_id, account_id)
    return AccountOut.of(account)


@router.delete(
    "/accounts/{account_id}",
    response_model=AccountDeleted,
    summary="Disconnect an account: revoke its token at the platform where possible, then delete",
)
async def delete_account(
    account_id: AccountIdPath, principal: PrincipalDep, container: ContainerDep
) -> AccountDeleted:
    from herald.oauth.revocation import disconnect

    revoked = await disconnect(container.revocation_ports, principal.business_id, account_id)
    return AccountDeleted(account_id=account_id, deleted=True, revoked_at_platform=revoked)
