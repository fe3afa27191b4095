"""API tokens: a tenant, a role, and a secret of which only a hash is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

import msgspec
from cachetools import TTLCache
from sqlalchemy import Engine, select, update

from vigil.store.schema import api_tokens

TOKEN_PREFIX = "vgl"


class TokenRecord(msgspec.Struct, frozen=True):
    id: str
    tenant: str
    name: str
    role: str


def _hash(secret: str) -> str:
    # Secrets are 32 random bytes, so a plain SHA-256 suffices; no password stretching needed.
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenRepository:
    """Tokens in the store, with a short-lived cache of successful look-ups.

    A gateway authenticates on every request; the cache saves a database round
    trip each time. A revoked token stops working at once in this process and
    within ``cache_seconds`` in others.
    """

    def __init__(
        self, engine: Engine, *, cache_seconds: float = 30.0, cache_size: int = 10_000
    ) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        # Least recently used entries go first when full, not the whole cache at once.
        self._cache: TTLCache[str, TokenRecord] = TTLCache(cache_size, cache_seconds)
        self._lock = threading.Lock()  # ``authenticate`` runs on worker threads

    def cached(self, token: str) -> TokenRecord | None:
        """The record if ``token`` authenticated recently; None means "ask ``authenticate``"."""
        with self._lock:
            return self._cache.get(token)

    def create(self, tenant: str, name: str, role: str, *, now: float) -> str:
        """A new token; the returned text is the only time the secret is seen."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(
                api_tokens.insert().values(
                    id=token_id,
                    tenant=tenant,
                    name=name,
                    role=role,
                    secret_hash=_hash(secret),
                    created=now,
                    revoked=False,
                )
            )
        return f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def authenticate(self, token: str) -> TokenRecord | None:
        prefix, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not token_id or not secret:
            return None
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(api_tokens).where(api_tokens.c.id == token_id, ~api_tokens.c.revoked)
                )
                .mappings()
                .first()
            )
        if row is None or not hmac.compare_digest(row["secret_hash"], _hash(secret)):
            return None
        record = TokenRecord(row["id"], row["tenant"], row["name"], row["role"])
        with self._lock:
            self._cache[token] = record
        return record

    def find(self, tenant: str, name: str) -> TokenRecord | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(api_tokens).where(
                        api_tokens.c.tenant == tenant,
                        api_tokens.c.name == name,
                        ~api_tokens.c.revoked,
                    )
                )
                .mappings()
                .first()
            )
        return (
            None if row is None else TokenRecord(row["id"], row["tenant"], row["name"], row["role"])
        )

    def revoke(self, tenant: str, token_id: str) -> None:
        with self._lock:
            for key in [k for k, v in self._cache.items() if v.id == token_id]:
                del self._cache[key]
        with self.engine.begin() as connection:
            connection.execute(
                update(api_tokens)
                .where(api_tokens.c.tenant == tenant, api_tokens.c.id == token_id)
                .values(revoked=True)
            )
