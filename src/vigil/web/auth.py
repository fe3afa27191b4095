"""Who is calling, from a bearer token or (for pages, reads only) the sign-in cookie."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from vigil.errors import Forbidden, NotAuthenticated
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


def same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from a page of this site.

    Browsers send ``Origin`` with every cross-site POST (and ``Referer`` for most
    same-site ones); a form on another site cannot make either match this host."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return False
    own = f"{request.url.scheme}://{request.url.netloc}"
    return claimed == own or claimed.startswith(own + "/")


async def authenticate_page_action(request: Request, platform: PlatformDep) -> Principal:
    """A page's form post: the sign-in cookie counts only from a page of this site."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer":
            raise NotAuthenticated("send 'Authorization: Bearer <token>'")
        bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)
        principal = await authenticate(request, platform, bearer, None)
        principal.require(Permission.HANDLE_ALERTS)
        return principal
    token = request.cookies.get(COOKIE)
    if not token:
        raise NotAuthenticated("not signed in")
    if not same_origin(request):
        raise Forbidden("this form must be sent from a Vigil page")
    record = platform.tokens.cached(token)
    if record is None:
        record = await asyncio.to_thread(platform.tokens.authenticate, token)
    if record is None:
        raise NotAuthenticated("unknown or revoked token")
    principal = Principal(
        tenant=record.tenant, role=record.role, name=record.name, token_id=record.id
    )
    principal.require(Permission.HANDLE_ALERTS)
    return principal


AlertHandler = Annotated[Principal, Depends(requires(Permission.HANDLE_ALERTS))]
PageAlertHandler = Annotated[Principal, Depends(authenticate_page_action)]
