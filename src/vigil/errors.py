"""Vigil's exceptions, one tree, branched by what the caller can do about it.

::

    VigilError
    ├── ConfigurationError     fix the settings or the catalog and restart
    ├── IngestError            the input is bad; tell the sender why
    │   ├── PayloadTooLarge
    │   └── MalformedPayload
    ├── StoreError             the database failed; retry or page an operator
    ├── Overloaded             at capacity now; send again after a pause
    ├── SecurityError          the caller may not do this
    │   ├── NotAuthenticated
    │   └── Forbidden
    ├── NotFound               nothing of that id in the caller's tenant
    ├── InvalidRequest         a request (not device input) asks for something impossible
    └── InteropError           a partner system sent or wanted something we cannot map

Third-party errors are translated at the edges (``raise ... from err``); only
``vigil.web`` maps these to HTTP status codes.
"""

from __future__ import annotations


class VigilError(Exception):
    """Root of every error Vigil raises on purpose."""


class ConfigurationError(VigilError):
    """Settings or catalog are inconsistent; nothing will work until they are fixed."""


class IngestError(VigilError):
    """Input was rejected; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class PayloadTooLarge(IngestError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__("payload_too_large", f"body of {size} bytes exceeds the limit of {limit}")


class MalformedPayload(IngestError):
    def __init__(self, detail: str) -> None:
        super().__init__("malformed", detail)


class StoreError(VigilError):
    """The database refused or failed an operation."""


class Overloaded(VigilError):
    """Too much work in flight: nothing was accepted, send again after ``retry_after``."""

    def __init__(self, detail: str, retry_after: float = 1.0) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class SecurityError(VigilError):
    """The caller is not allowed to do this."""


class NotAuthenticated(SecurityError):
    pass


class Forbidden(SecurityError):
    pass


class NotFound(VigilError):
    """No such thing in the caller's tenant (which is also what another tenant's id looks like)."""


class InvalidRequest(VigilError):
    """A person's request cannot be carried out as asked (a resolve without an outcome)."""


class InteropError(VigilError):
    """A partner system's message could not be mapped."""
