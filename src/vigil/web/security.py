"""Browser protections for every response: security headers, and no cross-site writes.

A pure ASGI middleware (no per-request objects beyond what it needs), so ingest's
hot path pays only a header check and a few appended headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
"""The pages load scripts, styles and data only from this site, and no one frames them."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
"""Swagger UI and ReDoc start from an inline script and set inline styles."""

DOCS_PATHS = ("/docs", "/redoc")

_COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_HEADERS = [(b"content-security-policy", CSP.encode()), *_COMMON]
_DOCS_HEADERS = [(b"content-security-policy", DOCS_CSP.encode()), *_COMMON]

_REFUSED = b'{"error":"Forbidden","detail":"cross-site request refused"}'


def same_origin(headers: dict[bytes, bytes]) -> bool:
    """False for a browser's request sent from another site.

    Browsers send ``Origin`` with every POST; a request without one comes from a
    program (a gateway, curl), which a forged cross-site form is not. A request with
    an ``Authorization`` header is not a forged form either: a page on another site
    cannot add one without a CORS pre-flight, which Vigil never grants.

    >>> same_origin({b"host": b"vigil:8000", b"origin": b"http://vigil:8000"})
    True
    >>> same_origin({b"host": b"vigil:8000", b"origin": b"https://evil.example"})
    False
    >>> same_origin({b"host": b"vigil:8000", b"origin": b"null"})
    False
    >>> same_origin({b"host": b"vigil:8000"})
    True
    """
    origin = headers.get(b"origin")
    if origin is None or b"authorization" in headers:
        return True
    host = headers.get(b"host", b"").decode("latin-1").lower()
    return bool(host) and urlsplit(origin.decode("latin-1")).netloc.lower() == host


class SecurityHeaders:
    """CSP, ``X-Frame-Options`` and friends on every response; a state-changing
    request from another site's page (login CSRF, a forged form) gets 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = _DOCS_HEADERS if path.startswith(DOCS_PATHS) else _HEADERS
        if scope["method"] not in SAFE_METHODS and not same_origin(dict(scope["headers"])):
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_REFUSED)).encode()),
                        *extra,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _REFUSED})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
