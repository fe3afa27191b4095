"""Who is calling, from a bearer token or (for pages, reads only) the sign-in cookie."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from vigil.errors import NotAuthenticated
from vigil.platform import Platform
from vigil.security import Permission, Principal

COOKIE = "vigil_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that do no blocking work are ``async def``: FastAPI runs a plain ``def``
# dependency in a worker thread, a hop that cost a tenth of ingest's time.


async def get_platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


PlatformDep = Annotated[Platform, Depends(get_platform)]


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token (`vigil token --tenant T --role R --name N`).",
)
cookie_scheme = APIKeyCookie(
    name=COOKIE,
    auto_error=False,
    scheme_name="cookie",
    description="The pages' sign-in cookie; trusted for reads only.",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
CookieDep = Annotated[str | None, Depends(cookie_scheme)]


async def authenticate(
    request: Request, platform: PlatformDep, bearer: BearerDep, cookie: CookieDep
) -> Principal:
    token = None
    if bearer is not None:
        token = bearer.credentials.strip()
    elif request.method in SAFE_METHODS:
        # The cookie is only trusted for reads, so a forged cross-site form cannot write.
        token = cookie
    if not token:
        raise NotAuthenticated("no credentials: send 'Authorization: Bearer <token>'")
    return await principal_for(platform, token)


async def principal_for(platform: Platform, token: str) -> Principal:
    record = platform.tokens.cached(token)
    if record is None:
        record = await asyncio.to_thread(platform.tokens.authenticate, token)
    if record is None:
        raise NotAuthenticated("unknown or revoked token")
    return Principal(tenant=record.tenant, role=record.role, name=record.name, token_id=record.id)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def requires(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: PrincipalDep) -> Principal:
        principal.require(permission)
        return principal

    return check


Reader = Annotated[Principal, Depends(requires(Permission.READ_TELEMETRY))]
Sender = Annotated[Principal, Depends(requires(Permission.INGEST))]
DeadLetterReader = Annotated[Principal, Depends(requires(Permission.READ_DEAD_LETTERS))]
Administrator = Annotated[Principal, Depends(requires(Permission.MANAGE))]


def page_action(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A page's form post may be signed by the cookie: ``SecurityHeaders`` has already
    refused it if another site's page sent it."""

    async def check(platform: PlatformDep, bearer: BearerDep, cookie: CookieDep) -> Principal:
        token = bearer.credentials.strip() if bearer is not None else cookie
        if not token:
            raise NotAuthenticated("not signed in")
        principal = await principal_for(platform, token)
        principal.require(permission)
        return principal

    return check


authenticate_page_action = page_action(Permission.HANDLE_ALERTS)

AlertHandler = Annotated[Principal, Depends(requires(Permission.HANDLE_ALERTS))]
PageAlertHandler = Annotated[Principal, Depends(authenticate_page_action)]
PagePlanner = Annotated[Principal, Depends(page_action(Permission.PLAN))]
"""A page's form that changes a carer plan (lock, move, re-optimise)."""
