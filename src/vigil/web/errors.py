"""The one place where Vigil's errors become HTTP status codes."""

from __future__ import annotations

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
    PayloadTooLarge,
    StoreError,
    VigilError,
)

STATUS: list[tuple[type[VigilError], int]] = [
    (PayloadTooLarge, 413),
    (IngestError, 400),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (InteropError, 422),
    (InvalidRequest, 422),
    (StoreError, 503),
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
        if isinstance(error, IngestError):
            body.update(reason=error.reason, detail=error.detail)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
        return JSONResponse(body, status_code=status_for(error), headers=headers)
