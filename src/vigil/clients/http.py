"""HTTP sink: what a gateway does, one POST per batch per tenant."""

from __future__ import annotations

import httpx

from vigil.errors import IngestError
from vigil.events import Batch, Event, encode_json


class HttpSink:
    def __init__(self, base_url: str, tokens: dict[str, str], *, timeout: float = 30.0) -> None:
        """``tokens`` maps each tenant to a gateway token of that tenant."""
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self.tokens = tokens
        self.rejected = 0

    async def send(self, events: list[Event]) -> None:
        by_tenant: dict[str, list[Event]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant, []).append(event)
        for tenant, group in by_tenant.items():
            try:
                response = await self.client.post(
                    "/api/v1/ingest",
                    content=encode_json(Batch(events=group)),
                    headers={
                        "Authorization": f"Bearer {self.tokens[tenant]}",
                        "Content-Type": "application/json",
                    },
                )
            except httpx.TransportError as err:
                raise ConnectionError(
                    f"cannot reach Vigil at {self.client.base_url}: {err}"
                ) from err
            if response.status_code >= 500 or response.status_code in (401, 403, 413):
                raise IngestError(f"http_{response.status_code}", response.text[:500])
            self.rejected += len(response.json().get("rejected", []))

    async def close(self) -> None:
        await self.client.aclose()
