"""Settings: one object, a section per subsystem, from a TOML file and ``VIGIL_`` variables.

Environment variables override the file; nested fields use ``__``
(``VIGIL_STORE__URL=postgresql+psycopg://...``). Defaults run the embedded
platform on SQLite with no broker. Settings are built once at start-up and
passed in; operators never read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vigil.errors import ConfigurationError


class _Section(BaseModel):
    """A settings section: a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Section):
    url: str = "sqlite:///vigil.db"
    """SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql+psycopg://user@host/db``."""
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    """FULL survives power loss as well as a killed process; NORMAL only the latter."""


class IngestSettings(_Section):
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_batch_events: int = Field(default=20_000, gt=0)
    max_future_seconds: float = Field(default=300.0, ge=0)
    """Events further ahead of the platform clock are rejected: the device clock is wrong."""
    max_past_seconds: float = Field(default=35 * 86400.0, gt=0)
    """Events older than this are rejected: too late to act on, and likely a wrong clock."""
    dead_letter_raw_bytes: int = Field(default=16_384, gt=0)
    """How much of a rejected payload is kept for people to inspect."""
    dead_letter_max_per_source: int = Field(default=10_000, gt=0)
    dead_letter_max_per_tenant: int = Field(default=100_000, gt=0)
    dead_letter_max_age_days: float = Field(default=30.0, gt=0)
    """Dead letters beyond these are removed (oldest first); their counts are kept."""
    max_in_flight_requests: int = Field(default=64, gt=0)
    """HTTP ingest requests being read, decoded or written at once; beyond it 503
    with Retry-After, so memory and latency stay bounded under a burst."""
    max_admission_wait_seconds: float = Field(default=10.0, gt=0)
    """How long an HTTP request may wait for the operators to catch up before it is
    answered 503 (nothing stored) instead."""
    max_operator_lag: int = Field(default=200_000, gt=0)
    """Events committed but not yet processed by the operators beyond which ingest
    waits before accepting more: memory stays bounded, and senders slow down
    instead of the platform falling ever further behind."""


class MqttSettings(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    topic_prefix: str = "vigil"
    client_id: str = "vigil-ingest"
    receive_maximum: int = Field(default=200, ge=1, le=65535)
    """Messages the broker may have in flight to Vigil at once (MQTT 5): enough that
    the next ones are already here while earlier ones are being written."""
    concurrency: int = Field(default=16, ge=1)
    """Messages decoded and written at once; group commit gathers them into one
    transaction. The rest of the window waits undecoded: a decoded batch is a
    thousand live objects that every pass of the cycle collector has to visit."""


class EngineSettings(_Section):
    checkpoint_interval_seconds: float = Field(default=2.0, gt=0)
    """How often operator state is saved; after a crash the log since is replayed
    (at most a few seconds of input). Each checkpoint writes every changed key."""
    checkpoint_interval_events: int = Field(default=100_000, gt=0)
    gc_threshold: int = Field(default=50_000, ge=0)
    """First-generation threshold of Python's cycle collector while the platform runs.
    The pipeline allocates (and soon frees) many small objects per event; at the
    default of 700 the collector ran so often that it cost two fifths of the
    throughput. 0 leaves Python's setting alone."""


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8000
    demo_login: bool = False
    """Offer one-click sign-in as the demo users. Never on in production."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIGIL_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    mqtt: MqttSettings = MqttSettings()
    engine: EngineSettings = EngineSettings()
    web: WebSettings = WebSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file))
        return tuple(sources)


def load_settings(path: Path | None = None, **overrides: object) -> Settings:
    """Settings from ``path`` (TOML) if given, then the environment, then ``overrides``."""
    if path is not None and not path.is_file():
        raise ConfigurationError(f"settings file {path} does not exist")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        settings = _FromFile(**overrides) if path else Settings(**overrides)
    except ValueError as err:
        raise ConfigurationError(f"invalid settings: {err}") from err
    return Settings.model_validate(settings.model_dump())
