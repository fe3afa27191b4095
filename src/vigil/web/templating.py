"""What every server-rendered page shares: templates, formatting, errors as pages, navigation.

Pages read the ``vigil_token`` cookie (see ``vigil.web.auth``); a page that needs
a sign-in redirects to ``/login`` instead of answering 401, and 403/404 come back
as HTML. Navigation comes from the installed domains' list pages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from vigil.catalog import Tenant
from vigil.domains import EntityList
from vigil.errors import Forbidden, InvalidRequest, NotAuthenticated, NotFound
from vigil.platform import Platform
from vigil.security import Permission, Principal, allows

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def utc_text(timestamp: float | None) -> str:
    """A time as people read it here, always in UTC.

    >>> utc_text(0.0)
    '1970-01-01 00:00 UTC'
    """
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def ago(timestamp: float | None, now: float) -> str:
    """How long before ``now``, in rough words.

    >>> ago(0.0, 30.0), ago(0.0, 600.0), ago(0.0, 7200.0), ago(0.0, 3 * 86400.0)
    ('just now', '10 min ago', '2 h ago', '3 d ago')
    """
    if timestamp is None:
        return "never"
    seconds = now - timestamp
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        text = f"{seconds // 60:.0f} min"
    elif seconds < 86400:
        text = f"{seconds // 3600:.0f} h"
    else:
        text = f"{seconds // 86400:.0f} d"
    return f"in {text}" if future else f"{text} ago"


def number(value: float | str | bool | None) -> str:
    """A sensor value for a table cell: at most two decimals, no trailing zeros.

    >>> number(21.5), number(1.0), number(0.123456), number(None), number("running")
    ('21.5', '1', '0.12', '—', 'running')
    """
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2f}".rstrip("0").rstrip(".")


TEMPLATES.env.filters.update(utc=utc_text, iso=iso, number=number)
TEMPLATES.env.globals["ago"] = ago


def duration(seconds: float | None) -> str:
    """A span of time in rough words.

    >>> duration(30), duration(600), duration(5400), duration(2 * 86400)
    ('30 s', '10 min', '1.5 h', '2.0 d')
    """
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def attribute(value: object) -> str:
    """An entity attribute as people read it.

    >>> attribute(True), attribute(False), attribute(None), attribute(84)
    ('yes', 'no', '—', '84')
    """
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "—"
    return str(value)


def label(name: str) -> str:
    """
    >>> label("fall_detector")
    'Fall detector'
    """
    return name.replace("_", " ").capitalize()


TEMPLATES.env.filters.update(
    utc=utc_text, iso=iso, number=number, duration=duration, attribute=attribute, label=label
)
TEMPLATES.env.globals["ago"] = ago


class PageRoute(APIRoute):
    """Turns errors into pages: no sign-in -> ``/login``; 403 and 404 as HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except NotAuthenticated:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            except (Forbidden, NotFound, InvalidRequest) as err:
                status, title = (
                    (403, "Not allowed")
                    if isinstance(err, Forbidden)
                    else (404, "Not found")
                    if isinstance(err, NotFound)
                    else (422, "Cannot do that")
                )
                context = {"title": title, "detail": str(err), "status": status, "nav": None}
                return TEMPLATES.TemplateResponse(
                    request, "error.html", context, status_code=status
                )

        return page


def entity_lists(
    platform: Platform, principal: Principal, tenant: Tenant | None = None
) -> list[EntityList]:
    """The domains' list pages that apply: the tenant's kind, or kinds it has entities of."""
    tenant = tenant or platform.registry.tenant(principal.tenant)
    return [
        item
        for item in platform.domains.lists
        if tenant.kind in item.tenant_kinds
        or platform.registry.has_entities_of(tenant.id, item.kinds)
    ]


def navigation(platform: Platform, principal: Principal, current: str) -> dict[str, Any]:
    tenant = platform.registry.tenant(principal.tenant)
    links = [("/", "Overview"), ("/alerts", "Alerts")]
    links += [(f"/{item.slug}", item.title) for item in entity_lists(platform, principal, tenant)]
    links += [
        (n.href, n.title) for n in platform.domains.navigation if tenant.kind in n.tenant_kinds
    ]
    if allows(principal.role, Permission.READ_DEAD_LETTERS):
        links.append(("/dead-letters", "Rejected input"))
    return {"tenant": tenant, "role": principal.role, "links": links, "current": current}


def render(
    request: Request,
    name: str,
    platform: Platform,
    principal: Principal,
    status_code: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("nav", navigation(platform, principal, request.url.path))
    context["now"] = platform.clock()
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
