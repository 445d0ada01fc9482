"""FastAPI dependencies, as `Annotated` aliases the routes use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

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


async def get_principal(
    request: Request,
    container: ContainerDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    # Failed authentication is limited per client address (see herald.api.ratelimit_auth).
    principal = await authenticate_limited(request, container, authorization)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
