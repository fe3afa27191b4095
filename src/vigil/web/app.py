"""The app factory: API, pages and live stream over one ``Platform``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from vigil.platform import Platform
from vigil.web.errors import install_error_handlers
from vigil.web.routers import conditions, dead_letters, entities, ingest, live, system
from vigil.web.security import SecurityHeaders

log = logging.getLogger(__name__)

BackgroundService = Callable[[Platform], Awaitable[None]]
"""A coroutine that runs for the app's lifetime: a broker subscriber, the simulator."""

STATIC = Path(__file__).with_name("static")


def create_app(
    platform: Platform,
    *,
    services: Sequence[BackgroundService] = (),
    manage_platform: bool = True,
) -> FastAPI:
    """``manage_platform``: start the platform with the app and stop it after."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform.bus.attach(asyncio.get_running_loop())
        if manage_platform:
            await asyncio.to_thread(platform.start)
        tasks = [asyncio.create_task(_supervise(service, platform)) for service in services]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if manage_platform:
                await asyncio.to_thread(platform.stop)

    # Swagger UI and ReDoc from the installed fastapi-offline package, not a CDN:
    # care networks are often closed.
    app = FastAPIOffline(
        title="Vigil",
        summary="Telemetry from connected sensors, turned into proactive action.",
        version="0.1.0",
        lifespan=lifespan,
        static_url="/docs/assets",
        favicon_url="/docs/assets/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.platform = platform
    app.state.live_streams = live.StreamLimit()
    app.state.metrics = system.Metrics(platform, app.state.live_streams)
    app.add_middleware(system.RequestTimer, metrics=app.state.metrics)
    app.add_middleware(SecurityHeaders)  # outermost: also on errors and refusals
    install_error_handlers(app)
    for router in (
        ingest.router,
        entities.router,
        conditions.router,
        dead_letters.router,
        live.router,
        system.router,
        *platform.domains.routers,
    ):
        app.include_router(router)
    from vigil.web.alert_pages import router as alert_pages_router
    from vigil.web.pages import list_pages_router
    from vigil.web.pages import router as pages_router

    app.include_router(alert_pages_router)
    app.include_router(pages_router)
    app.include_router(list_pages_router(item.slug for item in platform.domains.lists))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _supervise(service: BackgroundService, platform: Platform) -> None:
    name = getattr(service, "__name__", repr(service))
    try:
        await service(platform)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background service %s stopped with an error", name)
