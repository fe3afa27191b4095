"""Server-rendered pages: sign-in, overview, entity lists and details, rejected input.

Every page is scoped to the signed-in principal's tenant and checked against the
same permissions as the JSON API, and reads only the store (registry, projections,
conditions), never an operator's memory. Live updates come from ``/api/v1/live``
through ``static/app.js``. The alert queue's pages are in ``alert_pages``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from vigil.errors import NotFound
from vigil.platform import Platform
from vigil.security import Permission, allows, queue_routes
from vigil.web.auth import COOKIE, DeadLetterReader, PlatformDep, Reader
from vigil.web.templating import TEMPLATES, PageRoute, entity_lists, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 100


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


def _login_page(
    request: Request, platform: Platform, *, error: str | None = None, target: str = "/"
) -> Response:
    demo = []
    if platform.settings.web.demo_login:
        demo = [
            (tenant, platform.domains.demo_role(tenant.kind))
            for tenant in platform.registry.tenants()
            if platform.domains.demo_role(tenant.kind)
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


# Plain ``def``: FastAPI runs them on a worker thread, so their database work never
# holds up the event loop that also runs ingest.
@router.post("/login")
def login(
    request: Request,
    platform: PlatformDep,
    token: Annotated[str, Form(max_length=200)] = "",
    target: Annotated[str | None, Form(alias="next", max_length=2000)] = None,
) -> Response:
    token = token.strip()
    target = _safe_next(target)
    record = platform.tokens.authenticate(token) if token else None
    if record is None:
        return _login_page(request, platform, error="That token is not valid.", target=target)
    if not allows(record.role, Permission.READ_TELEMETRY):
        error = f"A {record.role} token cannot sign in to the pages."
        return _login_page(request, platform, error=error, target=target)
    return _signed_in(request, token, target)


@router.post("/login/demo")
def demo_login(
    request: Request,
    platform: PlatformDep,
    tenant_id: Annotated[str, Form(alias="tenant", max_length=128)] = "",
    target: Annotated[str | None, Form(alias="next", max_length=2000)] = None,
) -> Response:
    if not platform.settings.web.demo_login:
        raise NotFound("demo sign-in is not enabled")
    tenant = platform.registry.tenant(tenant_id)
    role = platform.domains.demo_role(tenant.kind)
    if role is None:
        raise NotFound(f"no demo user for tenant {tenant.id!r}")
    now = platform.clock()
    token = platform.tokens.create(tenant.id, f"demo-{role}", role, now=now)
    token_id = token.split("_", 2)[1]  # the text is vgl_<id>_<secret>
    platform.record_access(tenant.id, actor=token_id, action="demo_login", target=str(role))
    return _signed_in(request, token, _safe_next(target))


@router.post("/logout")  # POST only: a link or an <img> must not sign anyone out
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/logout", include_in_schema=False)
def logout_by_get() -> Response:
    """405, and nothing changes: without this route the list-page route (``/{slug}``)
    would take GET /logout and answer with a sign-in redirect."""
    return Response(status_code=405, headers={"Allow": "POST"})


# -- pages ------------------------------------------------------------------------------


@router.get("/")
def overview(request: Request, principal: Reader, platform: PlatformDep) -> Response:
    tenant = principal.tenant
    routes = queue_routes(principal.role)
    concerns = platform.conditions.open(tenant, routes=routes, limit=12)
    open_counts = platform.conditions.open_counts(tenant, routes=routes)
    names = platform.registry.entity_names(tenant, [c.entity for c in concerns])
    rejected = None
    if allows(principal.role, Permission.READ_DEAD_LETTERS):
        rejected = sorted(platform.dead_letters.counts(tenant).items(), key=lambda kv: -kv[1])
    return render(
        request,
        "overview.html",
        platform,
        principal,
        title="Overview",
        kinds=sorted(platform.registry.entity_kinds(tenant).items()),
        concerns=concerns,
        open_total=sum(open_counts.values()),
        names=names,
        rejected=rejected,
    )


def _entity_list(
    request: Request, principal: Any, platform: Platform, slug: str, page: int
) -> Response:
    applicable = {item.slug: item for item in entity_lists(platform, principal)}
    if slug not in applicable:
        raise NotFound(f"no {slug} in this tenant")
    item = applicable[slug]
    tenant = principal.tenant
    entities, total = platform.registry.entity_page(
        tenant, item.kinds, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    open_counts: Counter[str] = platform.conditions.open_counts(tenant)
    # Entities with open alerts first, whichever page they are on.
    attention_ids = [entity for entity, _ in open_counts.most_common(PAGE_SIZE)]
    names = platform.registry.entity_names(tenant, attention_ids, kinds=item.kinds)
    attention = [(e, names[e], open_counts[e]) for e in attention_ids if e in names]
    ids = [e.id for e in entities]
    last_seen = _last_seen(platform, tenant, ids)
    columns = item.columns
    values: dict[str, dict[str, Any]] = {}
    for device in {column.device for column in columns}:
        metrics = [column.metric for column in columns if column.device == device]
        for entity_id, found in platform.projections.latest_of(
            tenant, ids, device=device, metrics=metrics
        ).items():
            for metric, value in found.items():
                values.setdefault(entity_id, {})[f"{device}/{metric}"] = value
    rows = [
        (
            entity,
            last_seen.get(entity.id),
            open_counts[entity.id],
            [values.get(entity.id, {}).get(f"{c.device}/{c.metric}") for c in columns],
        )
        for entity in entities
    ]
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "entities.html",
        platform,
        principal,
        title=item.title,
        rows=rows,
        columns=columns,
        attention=attention,
        page=page,
        pages=pages,
        total=total,
        slug=slug,
    )


def _last_seen(platform: Platform, tenant: str, ids: list[str]) -> dict[str, float]:
    """When each entity last reported; one with no devices of its own (a line) was
    last seen when the newest of its children was."""
    seen = platform.projections.last_seen(tenant, ids)
    children = {
        e: [c.id for c in platform.registry.children(tenant, e)] for e in ids if e not in seen
    }
    if not any(children.values()):
        return seen
    child_seen = platform.projections.last_seen(
        tenant, [c for kids in children.values() for c in kids]
    )
    for entity, kids in children.items():
        times = [child_seen[c] for c in kids if c in child_seen]
        if times:
            seen[entity] = max(times)
    return seen


@router.get("/entities/{entity_id}")
def entity_page(
    entity_id: str, request: Request, principal: Reader, platform: PlatformDep
) -> Response:
    tenant = principal.tenant
    entity = platform.registry.entity(tenant, entity_id)  # NotFound for another tenant's id
    platform.record_access(tenant, actor=principal.token_id, action="read_entity", target=entity_id)
    devices = platform.registry.devices(tenant, entity_id)
    latest = {(v.device, v.metric): v for v in platform.projections.latest(tenant, entity_id)}
    slots = list(latest)
    slots += [
        (device.id, metric)
        for device in devices
        for metric in device.metrics
        if (device.id, metric) not in latest
    ]
    rows = [(device, metric, latest.get((device, metric))) for device, metric in sorted(slots)]
    conditions = platform.conditions.for_entity(tenant, entity_id, limit=50)
    children = platform.registry.children(tenant, entity_id)
    updated = max((value.time for value in latest.values()), default=None)
    if updated is None and children:
        updated = _last_seen(platform, tenant, [entity_id]).get(entity_id)
    return render(
        request,
        "entity.html",
        platform,
        principal,
        title=entity.name,
        entity=entity,
        devices=devices,
        rows=rows,
        conditions=conditions,
        children=children,
        updated=updated,
    )


@router.get("/dead-letters")
def dead_letters(request: Request, principal: DeadLetterReader, platform: PlatformDep) -> Response:
    counts = platform.dead_letters.counts(principal.tenant)
    return render(
        request,
        "dead_letters.html",
        platform,
        principal,
        title="Rejected input",
        counts=sorted(counts.items(), key=lambda kv: -kv[1]),
        items=platform.dead_letters.recent(principal.tenant, limit=200),
    )


def list_pages_router(slugs: Iterable[str]) -> APIRouter:
    """A GET route per domain list page (``/homes``, ``/machines``, ...): named
    routes, not a catch-all, so ``GET /logout`` stays 405 and unknown paths 404."""
    lists = APIRouter(route_class=PageRoute, include_in_schema=False)
    for slug in dict.fromkeys(slugs):
        lists.add_api_route(f"/{slug}", _list_page(slug), methods=["GET"], name=f"list_{slug}")
    return lists


def _list_page(slug: str) -> Callable[..., Response]:
    def entity_list(
        request: Request,
        principal: Reader,
        platform: PlatformDep,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        return _entity_list(request, principal, platform, slug, page)

    return entity_list
