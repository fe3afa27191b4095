"""The Sparkplug B topic namespace (specification 4.1), parsed and built.

::

    spBv1.0/{group}/{NBIRTH|NDEATH|NDATA|NCMD}/{edge node}
    spBv1.0/{group}/{DBIRTH|DDEATH|DDATA|DCMD}/{edge node}/{device}
    spBv1.0/STATE/{host id}

>>> parse_topic("spBv1.0/plant/DDATA/line-1/m-01")
SparkplugTopic(group='plant', verb='DDATA', node='line-1', device='m-01')
>>> parse_topic("spBv1.0/plant/DDATA/line-1") is None  # a device verb needs a device
True
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

NAMESPACE: Final = "spBv1.0"
NODE_VERBS: Final = frozenset({"NBIRTH", "NDEATH", "NDATA", "NCMD"})
DEVICE_VERBS: Final = frozenset({"DBIRTH", "DDEATH", "DDATA", "DCMD"})
Verb = Literal["NBIRTH", "NDEATH", "NDATA", "NCMD", "DBIRTH", "DDEATH", "DDATA", "DCMD"]


class SparkplugTopic(msgspec.Struct, frozen=True):
    group: str
    verb: Verb
    node: str
    device: str | None = None


def parse_topic(topic: str) -> SparkplugTopic | None:
    """The parts of an edge node's or device's topic; None for anything else (STATE too)."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
        return None
    group, verb, node = parts[1], parts[2], parts[3]
    device = parts[4] if len(parts) == 5 else None
    if not group or not node or device == "":
        return None
    if (device is None and verb not in NODE_VERBS) or (
        device is not None and verb not in DEVICE_VERBS
    ):
        return None
    return SparkplugTopic(group, verb, node, device)  # type: ignore[arg-type]


def state_topic(host_id: str) -> str:
    """Where a host application announces itself (specification 4.2.3)."""
    return f"{NAMESPACE}/STATE/{host_id}"


def ncmd_topic(group: str, node: str) -> str:
    return f"{NAMESPACE}/{group}/NCMD/{node}"


def subscriptions(groups: list[str]) -> list[str]:
    """Every message of the groups this host serves (``+``: every group)."""
    return [f"{NAMESPACE}/{group}/#" for group in groups]
