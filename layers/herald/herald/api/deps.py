"""FastAPI dependencies, as `Annotated` aliases the routes use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from herald import container as composition
from herald.api.ratelimit_auth import authenticate_limited
from herald.auth import Principal
from herald.container import Container


def get_container(request: Request) -> Container:
    # An app made without a container (the Lambda handler's) uses the process-wide one, which
    # tests replace with `herald.container.set_container`.
    container: Container | None = request.app.state.container
    return container if container is not None else composition.get_container()


ContainerDep = Annotated[Container, Depends(get_container)]


MAX_PREFETCH = 20  # the most accounts a publish or schedule request may name


async def named_accounts(request: Request) -> list[str]:
    """The account ids a POST's JSON body names (publish, schedule), so authentication can read
    them with the key in one request. Only a hint: the route validates its body as usual, and an
    account missing from the principal is read the ordinary way. FastAPI has already parsed
    the body by now, so `request.json()` returns it without parsing again."""
    if request.method != "POST" or "json" not in request.headers.get("content-type", ""):
        return []
    try:
        data = await request.json()
    except ValueError:
        return []
    ids = data.get("account_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not 0 < len(ids) <= MAX_PREFETCH:
        return []
    if not all(isinstance(i, str) and 0 < len(i) <= 128 for i in ids):
        return []
    return list(dict.fromkeys(ids))


# Declares the key in the OpenAPI description (each operation that needs one says so); the key
# itself is read from the raw header, so a malformed one gets Herald's own 401, not FastAPI's 403.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="hrld_<business>.<secret>",
    description='An API key, `Authorization: Bearer hrld_...` (docs/api.md, "Authentication").',
)


async def get_principal(
    request: Request,
    container: ContainerDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    # Failed authentication is limited per client address (see herald.api.ratelimit_auth).
    authorization = request.headers.get("authorization")
    principal = await authenticate_limited(
        request, container, authorization, await named_accounts(request)
    )
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
