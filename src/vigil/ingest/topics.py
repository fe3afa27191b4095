"""The MQTT topic layout, in one place for subscriber, simulator and docs.

::

    {prefix}/v1/{tenant}/devices/{device}/events    one device's events (JSON)
    {prefix}/v1/{tenant}/gateways/{gateway}/events  a gateway's batch, any devices of the tenant
    {prefix}/v1/{tenant}/devices/{device}/rejected  what Vigil refused, for the device to read
    {prefix}/v1/{tenant}/gateways/{gateway}/rejected

>>> parse_topic("vigil", "vigil/v1/north/devices/north.h1.kettle/events")
TopicAddress(tenant='north', kind='devices', sender='north.h1.kettle')
>>> parse_topic("vigil", "vigil/v1/north/somewhere/else") is None
True
"""

from __future__ import annotations

from typing import Literal

import msgspec

SenderKind = Literal["devices", "gateways"]


class TopicAddress(msgspec.Struct, frozen=True):
    tenant: str
    kind: SenderKind
    sender: str

    def reply_topic(self, prefix: str) -> str:
        return f"{prefix}/v1/{self.tenant}/{self.kind}/{self.sender}/rejected"


def subscriptions(prefix: str) -> list[str]:
    return [f"{prefix}/v1/+/devices/+/events", f"{prefix}/v1/+/gateways/+/events"]


def device_topic(prefix: str, tenant: str, device: str) -> str:
    return f"{prefix}/v1/{tenant}/devices/{device}/events"


def gateway_topic(prefix: str, tenant: str, gateway: str) -> str:
    return f"{prefix}/v1/{tenant}/gateways/{gateway}/events"


def parse_topic(prefix: str, topic: str) -> TopicAddress | None:
    parts = topic.split("/")
    base = prefix.split("/")
    if len(parts) != len(base) + 5 or parts[: len(base)] != base:
        return None
    version, tenant, kind, sender, leaf = parts[len(base) :]
    if version != "v1" or leaf != "events" or kind not in ("devices", "gateways"):
        return None
    if not tenant or not sender:
        return None
    return TopicAddress(tenant, kind, sender)  # type: ignore[arg-type]
