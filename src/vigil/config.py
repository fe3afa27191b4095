"""Settings: one object, a section per subsystem, from a TOML file and ``VIGIL_`` variables.

One precedence everywhere: a command-line flag beats a ``VIGIL_`` environment
variable, which beats the settings file, which beats the default. Nested fields
use ``__`` (``VIGIL_STORE__URL=postgresql+psycopg://...``). Defaults run the embedded
platform on SQLite with no broker. Settings are built once at start-up and
passed in; operators never read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
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


class SparkplugSettings(_Section):
    """The Sparkplug B host application; it connects to the broker of ``mqtt``."""

    enabled: bool = False
    host_id: str = Field(default="vigil", min_length=1, pattern=r"^[^/+#]+$")
    """The Sparkplug Host ID: STATE is published on ``spBv1.0/STATE/{host_id}``."""
    groups: list[str] = ["+"]
    """Sparkplug groups (Vigil tenants) to subscribe to; ``+`` is every group."""
    client_id: str = "vigil-sparkplug"
    reorder_timeout_seconds: float = Field(default=2.0, ge=0)
    """How long a gap in an edge node's seq may wait to be filled before a rebirth."""
    rebirth_interval_seconds: float = Field(default=5.0, ge=0)
    """At most one rebirth request per edge node this often."""
    concurrency: int = Field(default=16, ge=1)


NODE_ID = (
    r"^(ns=\d+;)?"
    r"(i=\d+|s=.+|g=[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|b=.+)$"
)
"""An OPC UA node id in its string form (Part 6, 5.3.1.10): ``ns=2;s=Press1.Temperature``."""


class OpcUaNode(_Section):
    """One OPC UA variable and the Vigil metric its values become."""

    node_id: str = Field(pattern=NODE_ID)
    device: str = Field(min_length=1)
    """The registered Vigil device the readings belong to (of the server's tenant)."""
    metric: str = Field(min_length=1, max_length=64)
    unit: str | None = Field(default=None, max_length=16)
    scale: float = 1.0
    """Each value is multiplied by this (raw counts to engineering units)."""


class OpcUaServer(_Section):
    """An OPC UA server Vigil subscribes to, and the nodes it reads there."""

    endpoint: str = Field(pattern=r"^opc\.tcp://")
    tenant: str = Field(min_length=1)
    nodes: list[OpcUaNode] = Field(min_length=1)
    username: str | None = None
    password: str | None = None

    @field_validator("nodes")
    @classmethod
    def _distinct(cls, nodes: list[OpcUaNode]) -> list[OpcUaNode]:
        seen: set[str] = set()
        for node in nodes:
            if node.node_id in seen:
                raise ValueError(f"node {node.node_id!r} is listed twice")
            seen.add(node.node_id)
        return nodes


class OpcUaSettings(_Section):
    """The OPC UA client: subscriptions to each server's nodes."""

    enabled: bool = False
    servers: list[OpcUaServer] = []
    publishing_interval_ms: float = Field(default=100.0, gt=0)
    """How often the server sends what changed (OPC UA publishing interval)."""
    sampling_interval_ms: float = Field(default=0.0, ge=0)
    """How often the server samples each node; 0 is the fastest the server offers."""
    item_queue_size: int = Field(default=100, ge=1)
    """Changes the server keeps per node between two publishes."""
    max_pending: int = Field(default=10_000, ge=1)
    """Changes received and not yet written beyond which Vigil drops the connection and
    subscribes again (the server's current values then), instead of growing without end."""
    request_timeout_seconds: float = Field(default=4.0, gt=0)
    watchdog_seconds: float = Field(default=1.0, gt=0)
    """How often the connection is checked; a lost server is seen within about this."""
    reconnect_min_seconds: float = Field(default=0.5, gt=0)
    reconnect_max_seconds: float = Field(default=30.0, gt=0)
    """Back-off between connection attempts: doubling from the first to the second."""


class ScrapeTarget(_Section):
    """A network function's Prometheus endpoint and the devices its samples become.

    A sample's ``label`` value (the cell, by default) picks the registered device
    in ``devices``; its metric name, less ``prefix``, is the reading's metric."""

    url: str = Field(pattern=r"^https?://")
    tenant: str = Field(min_length=1)
    devices: dict[str, str] = Field(min_length=1)
    """Label value → registered device id (``"2": "plant.cell-2.gnb"``)."""
    label: str = "cell"
    prefix: str = ""
    """Stripped from metric names (``gnb_`` turns ``gnb_sinr_db`` into ``sinr_db``)."""
    metrics: list[str] = []
    """Only these metrics (after the prefix is stripped); empty: every sample."""
    interval_seconds: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=5.0, gt=0)


class ScrapeSettings(_Section):
    """Scraping the Prometheus text exposition of 5G network functions (gNB, UPF, ...)."""

    enabled: bool = False
    targets: list[ScrapeTarget] = []


class ServiceLevelSettings(_Section):
    """What one class of device needs of its 5G link (3GPP TS 22.104)."""

    title: str
    availability: float = Field(gt=0, le=1)
    survival_seconds: float = Field(ge=0)
    max_latency_ms: float = Field(gt=0)
    max_loss_pct: float = Field(ge=0)


def _levels(*rows: tuple[str, str, float, float, float, float]) -> dict[str, ServiceLevelSettings]:
    return {
        name: ServiceLevelSettings(
            title=title,
            availability=availability,
            survival_seconds=survival,
            max_latency_ms=latency,
            max_loss_pct=loss,
        )
        for name, title, availability, survival, latency, loss in rows
    }


class NetworkSettings(_Section):
    """The plant's device classes and their service levels (``vigil.factory``)."""

    service_levels: dict[str, ServiceLevelSettings] = _levels(
        ("motion", "PLC and motion control", 0.999999, 0.010, 20.0, 0.01),
        ("agv", "AGVs and mobile robots", 0.99999, 0.100, 50.0, 0.1),
        ("sensor", "condition and process sensors", 0.9999, 3.0, 100.0, 1.0),
        ("video", "video and machine vision", 0.999, 0.5, 150.0, 2.0),
    )
    """Defaults for a car plant, within the ranges of TS 22.104's tables for motion
    control, mobile robots, process monitoring and video."""
    window_seconds: float = Field(default=3600.0, gt=0)
    """Availability is judged over this much of the latest event time."""


class EngineSettings(_Section):
    checkpoint_interval_seconds: float = Field(default=2.0, gt=0)
    """How often operator state is saved; after a crash the log since is replayed
    (at most a few seconds of input). Each checkpoint writes every changed key."""
    checkpoint_interval_events: int = Field(default=1_000_000, gt=0)
    """At most this many events between checkpoints, whatever the time."""
    checkpoint_max_seconds: float = Field(default=60.0, gt=0)
    """With many keys each changing rarely, a checkpoint waits for enough events per
    changed key (so its cost per event stays flat), but never longer than this."""
    tick_seconds: float = Field(default=1.0, ge=0)
    """How often the platform writes each tenant's clock into the log (0: never), so
    that timers fire while every device of a tenant is silent."""
    escalate_after_seconds: dict[str, float | None] = {
        "critical": 300.0,
        "warning": 1800.0,
        "info": None,
    }
    """Per severity: how long an alert may stay unacknowledged before it escalates."""
    history_retention_days: dict[int, float] = {60: 2.0, 900: 35.0, 3600: 400.0, 86400: 3650.0}
    """Per history resolution (seconds): how long its buckets are kept."""
    gc_threshold: int = Field(default=50_000, ge=0)
    """First-generation threshold of Python's cycle collector while the platform runs.
    The pipeline allocates (and soon frees) many small objects per event; at the
    default of 700 the collector ran so often that it cost two fifths of the
    throughput. 0 leaves Python's setting alone."""


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    demo_login: bool = False
    """Offer one-click sign-in as the demo users. Never on in production."""
    metrics_public: bool = False
    """Serve ``/metrics`` without a token. Off by default: the counters tell an
    outsider each transport's volume and the rejection reasons. When off, a
    scraper sends ``Authorization: Bearer <token>`` of an administrator."""
    secure_cookie: bool = False
    """Mark the sign-in cookie ``Secure`` always. Without it, the cookie is ``Secure``
    when the request came over HTTPS: uvicorn's own TLS, or a proxy listed in
    ``forwarded_allow_ips`` that sends ``X-Forwarded-Proto: https``."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed
    (comma-separated addresses, or ``*``)."""
    max_streams_per_principal: int = Field(default=8, ge=1)
    """Live (SSE) streams one token may hold open at once; more get 429. Each
    open stream costs ingest a little on every output."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIGIL_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    mqtt: MqttSettings = MqttSettings()
    sparkplug: SparkplugSettings = SparkplugSettings()
    opcua: OpcUaSettings = OpcUaSettings()
    scrape: ScrapeSettings = ScrapeSettings()
    network: NetworkSettings = NetworkSettings()
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


_SECTION_ERRORS = frozenset({"model_type", "model_attributes_type", "dict_type"})


def describe(err: ValidationError) -> str:
    """The errors of ``err`` by setting name, without the class names or the input
    values that pydantic's own text has (a value may be a URL with a password)."""
    problems = []
    for error in err.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        if error["type"] in _SECTION_ERRORS:
            message = "must be a section of settings (a TOML table)"
        elif error["type"] == "extra_forbidden":
            message = "is not a setting"
        else:
            message = error["msg"]
        problems.append(f"{name} {message}")
    return "; ".join(problems)


def load_settings(path: Path | None = None, **overrides: object) -> Settings:
    """Settings with one precedence: ``overrides`` (command-line flags), then the
    ``VIGIL_`` environment, then ``path`` (TOML) if given, then the defaults.

    ``overrides`` are nested dictionaries (``web={"port": 8001}``), merged into the
    other sources key by key, so a flag replaces only the setting it names.
    """
    if path is not None and not path.is_file():
        raise ConfigurationError(f"settings file {path} does not exist")
    config = SettingsConfigDict(toml_file=path) if path else SettingsConfigDict()
    from_file = type("Settings", (Settings,), {"model_config": config})
    try:
        settings = from_file(**overrides)
    except ValidationError as err:
        raise ConfigurationError(f"invalid settings: {describe(err)}") from None
    except ValueError as err:  # e.g. a TOML syntax error, which quotes no value
        raise ConfigurationError(f"invalid settings file {path}: {err}") from None
    return Settings.model_validate(settings.model_dump())
