"""FastAPI dependencies, as `Annotated` aliases the routes use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from herald import container as composition
from herald.auth import Principal, authenticate
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
    # boto3 is synchronous: the lookup runs in a worker thread so the loop keeps serving.
    principal = await run_in_threadpool(authenticate, authorization, container.businesses)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
