"""The one place where Vigil's errors become HTTP status codes."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from vigil.errors import (
    ConfigurationError,
    Forbidden,
    IngestError,
    InteropError,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    StoreError,
    VigilError,
)

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
"""What a 503 asks a sender to wait before sending again."""

STATUS: list[tuple[type[VigilError], int]] = [
    (PayloadTooLarge, 413),
    (IngestError, 400),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (InteropError, 422),
    (InvalidRequest, 422),
    (StoreError, 503),
    (Overloaded, 503),
    (ConfigurationError, 500),
]


def status_for(error: VigilError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VigilError)
    async def _vigil_error(request: Request, error: VigilError) -> JSONResponse:
        body: dict[str, object] = {"error": type(error).__name__, "detail": str(error)}
        headers: dict[str, str] | None = None
        if isinstance(error, IngestError):
            body.update(reason=error.reason, detail=error.detail)
        elif isinstance(error, NotAuthenticated):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(error, Overloaded):
            headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
        elif isinstance(error, StoreError):
            # The message names the statement and its parameters: for the log, never
            # for the client. Nothing was acknowledged, so the sender may send again.
            log.error("%s %s: %s", request.method, request.url.path, error)
            body["detail"] = "the database is unavailable; nothing was stored, send again later"
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse(body, status_code=status_for(error), headers=headers)
