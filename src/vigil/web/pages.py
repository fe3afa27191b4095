"""Server-rendered pages: sign-in, overview, entity lists and details, rejected input.

Every page is scoped to the signed-in principal's tenant and checked against the
same permissions as the JSON API. Pages read the ``vigil_token`` cookie (see
``vigil.web.auth``); a page that needs a sign-in redirects to ``/login`` instead
of answering 401, and 403/404 come back as HTML. Live updates come from
``/api/v1/live`` through ``static/app.js``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from vigil.catalog import Entity
from vigil.errors import Forbidden, NotAuthenticated, NotFound
from vigil.platform import Platform
from vigil.security import Permission, Principal, Role, allows
from vigil.signals import RECOVERY_OF
from vigil.store.operator_state import FindingRow
from vigil.web.auth import COOKIE, DeadLetterReader, PlatformDep, Reader

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))

LISTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "homes": ("Homes", ("home",), "council"),
    "machines": ("Machines", ("machine", "line", "cell"), "plant"),
}
"""List page slug -> (title, entity kinds, the tenant kind it belongs to)."""

DEMO_ROLES: dict[str, Role] = {"council": Role.COORDINATOR, "plant": Role.ENGINEER}


# -- formatting -------------------------------------------------------------------------


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


# -- open findings ----------------------------------------------------------------------


def _condition(finding: FindingRow) -> tuple[str, str, object, object]:
    kind = RECOVERY_OF.get(finding.kind, finding.kind)
    return (finding.entity, kind, finding.data.get("device"), finding.data.get("metric"))


def open_findings(findings: Iterable[FindingRow]) -> list[FindingRow]:
    """The newest finding of each condition still open, from findings newest first.

    A condition is an entity, a kind and (where given) device and metric; a
    clearing kind (``battery_ok`` after ``battery_low``) closes it.
    """
    seen: set[tuple[str, str, object, object]] = set()
    result = []
    for finding in findings:
        key = _condition(finding)
        if key in seen:
            continue
        seen.add(key)
        if finding.kind not in RECOVERY_OF:
            result.append(finding)
    return result


# -- sign-in and errors -----------------------------------------------------------------


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
            except (Forbidden, NotFound) as err:
                status, title = (
                    (403, "Not allowed") if isinstance(err, Forbidden) else (404, "Not found")
                )
                context = {"title": title, "detail": str(err), "status": status, "nav": None}
                return TEMPLATES.TemplateResponse(
                    request, "error.html", context, status_code=status
                )

        return page


router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/``: no open redirects.

    >>> _safe_next("/homes?x=1"), _safe_next("//evil.example"), _safe_next("/" + chr(9) + "/x")
    ('/homes?x=1', '/', '/')
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 or ord(char) == 127 for char in target)
    ):
        return "/"
    return target


def _signed_in(request: Request, token: str, target: str = "/") -> RedirectResponse:
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https"
        or request.app.state.platform.settings.web.secure_cookie,
        path="/",
    )
    return response


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body).items()}


def _login_page(
    request: Request, platform: Platform, *, error: str | None = None, target: str = "/"
) -> Response:
    demo = []
    if platform.settings.web.demo_login:
        demo = [
            (tenant, DEMO_ROLES[tenant.kind])
            for tenant in platform.registry.tenants()
            if tenant.kind in DEMO_ROLES
        ]
    context = {"title": "Sign in", "nav": None, "error": error, "demo": demo, "next": target}
    return TEMPLATES.TemplateResponse(
        request, "login.html", context, status_code=401 if error else 200
    )


@router.get("/login")
def login_form(
    request: Request, platform: PlatformDep, target: Annotated[str, Query(alias="next")] = "/"
) -> Response:
    return _login_page(request, platform, target=_safe_next(target))


@router.post("/login")
async def login(request: Request, platform: PlatformDep) -> Response:
    form = await _form(request)
    token = form.get("token", "").strip()
    target = _safe_next(form.get("next"))
    record = platform.tokens.authenticate(token) if token else None
    if record is None:
        return _login_page(request, platform, error="That token is not valid.", target=target)
    if not allows(record.role, Permission.READ_TELEMETRY):
        error = f"A {record.role} token cannot sign in to the pages."
        return _login_page(request, platform, error=error, target=target)
    return _signed_in(request, token, target)


@router.post("/login/demo")
async def demo_login(request: Request, platform: PlatformDep) -> Response:
    if not platform.settings.web.demo_login:
        raise NotFound("demo sign-in is not enabled")
    form = await _form(request)
    tenant = platform.registry.tenant(form.get("tenant", ""))
    role = DEMO_ROLES.get(tenant.kind)
    if role is None:
        raise NotFound(f"no demo user for tenant {tenant.id!r}")
    now = platform.clock()
    token = platform.tokens.create(tenant.id, f"demo-{role.value}", role.value, now=now)
    token_id = token.split("_", 2)[1]  # the text is vgl_<id>_<secret>
    platform.audit.record(tenant.id, actor=token_id, action="demo_login", target=role, now=now)
    return _signed_in(request, token, form.get("next", "/"))


@router.post("/logout")  # POST only: a link or an <img> must not sign anyone out
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- pages ------------------------------------------------------------------------------


def _nav(platform: Platform, principal: Principal, current: str) -> dict[str, Any]:
    tenant = platform.registry.tenant(principal.tenant)
    links = [("/", "Overview")]
    links += [(f"/{slug}", spec[0]) for slug, spec in _lists(platform, principal, tenant.kind)]
    if allows(principal.role, Permission.READ_DEAD_LETTERS):
        links.append(("/dead-letters", "Rejected input"))
    return {"tenant": tenant, "role": principal.role, "links": links, "current": current}


def _lists(
    platform: Platform, principal: Principal, tenant_kind: str | None = None
) -> list[tuple[str, tuple[str, tuple[str, ...], str]]]:
    """The list pages that apply: the tenant's kind, or kinds it has entities of."""
    if tenant_kind is None:
        tenant_kind = platform.registry.tenant(principal.tenant).kind
    kinds = {entity.kind for entity in platform.registry.entities(principal.tenant)}
    return [
        (slug, spec)
        for slug, spec in LISTS.items()
        if spec[2] == tenant_kind or kinds.intersection(spec[1])
    ]


def _render(
    request: Request, name: str, platform: Platform, principal: Principal, **context: Any
) -> Response:
    context.setdefault("nav", _nav(platform, principal, request.url.path))
    context["now"] = platform.clock()
    return TEMPLATES.TemplateResponse(request, name, context)


@router.get("/")
def overview(request: Request, principal: Reader, platform: PlatformDep) -> Response:
    tenant = principal.tenant
    entities = {entity.id: entity for entity in platform.registry.entities(tenant)}
    kinds = Counter(entity.kind for entity in entities.values())
    recent = platform.findings.recent(tenant, limit=500)
    still_open = Counter(finding.entity for finding in open_findings(recent))
    latest: dict[str, FindingRow] = {}
    for finding in recent:  # newest first: the first one of an entity is its latest
        latest.setdefault(finding.entity, finding)
    concerns = sorted(latest.values(), key=lambda f: (-still_open[f.entity], -f.time))[:12]
    rejected = None
    if allows(principal.role, Permission.READ_DEAD_LETTERS):
        rejected = sorted(platform.dead_letters.counts(tenant).items(), key=lambda kv: -kv[1])
    return _render(
        request,
        "overview.html",
        platform,
        principal,
        title="Overview",
        kinds=sorted(kinds.items()),
        concerns=[(entities.get(f.entity), f, still_open[f.entity]) for f in concerns],
        names={entity.id: entity.name for entity in entities.values()},
        rejected=rejected,
    )


def _entity_list(request: Request, principal: Principal, platform: Platform, slug: str) -> Response:
    applicable = dict(_lists(platform, principal))
    if slug not in applicable:
        raise NotFound(f"no {slug} in this tenant")
    title, kinds, _ = applicable[slug]
    entities: list[Entity] = [
        entity for kind in kinds for entity in platform.registry.entities(principal.tenant, kind)
    ]
    last_seen = platform.last_seen(principal.tenant)
    open_count = Counter(
        finding.entity
        for finding in open_findings(platform.findings.recent(principal.tenant, limit=1000))
    )
    rows = [(entity, last_seen.get(entity.id), open_count[entity.id]) for entity in entities]
    rows.sort(key=lambda row: (-row[2], row[0].name.casefold()))  # most concern first
    return _render(request, "entities.html", platform, principal, title=title, rows=rows)


@router.get("/homes")
def homes(request: Request, principal: Reader, platform: PlatformDep) -> Response:
    return _entity_list(request, principal, platform, "homes")


@router.get("/machines")
def machines(request: Request, principal: Reader, platform: PlatformDep) -> Response:
    return _entity_list(request, principal, platform, "machines")


@router.get("/entities/{entity_id}")
def entity_page(
    entity_id: str, request: Request, principal: Reader, platform: PlatformDep
) -> Response:
    tenant = principal.tenant
    entity = platform.registry.entity(tenant, entity_id)  # NotFound for another tenant's id
    platform.audit.record(
        tenant,
        actor=principal.token_id,
        action="read_entity",
        target=entity_id,
        now=platform.clock(),
    )
    devices = platform.registry.devices(tenant, entity_id)
    latest = {(value.device, value.metric): value for value in platform.latest(tenant, entity_id)}
    slots = list(latest)
    slots += [
        (device.id, metric)
        for device in devices
        for metric in device.metrics
        if (device.id, metric) not in latest
    ]
    rows = [(device, metric, latest.get((device, metric))) for device, metric in sorted(slots)]
    findings = platform.findings.recent(tenant, entity=entity_id, limit=50)
    updated = max((value.time for value in latest.values()), default=None)
    return _render(
        request,
        "entity.html",
        platform,
        principal,
        title=entity.name,
        entity=entity,
        devices=devices,
        rows=rows,
        findings=findings,
        open_ids={finding.id for finding in open_findings(findings)},
        updated=updated,
    )


@router.get("/dead-letters")
def dead_letters(request: Request, principal: DeadLetterReader, platform: PlatformDep) -> Response:
    counts = platform.dead_letters.counts(principal.tenant)
    return _render(
        request,
        "dead_letters.html",
        platform,
        principal,
        title="Rejected input",
        counts=sorted(counts.items(), key=lambda kv: -kv[1]),
        items=platform.dead_letters.recent(principal.tenant, limit=200),
    )
