"""The host application's view of every edge node: births, aliases, seq, bdSeq, deaths.

Pure: ``EdgeSessions.step`` takes one decoded message and the host's clock and
returns what it means (samples, devices going online or offline, problems,
whether to ask for a rebirth); the MQTT side does the I/O. One message at a
time, in arrival order.

Sparkplug's ``seq`` (0-255, wrapping, one counter per edge node over all its
messages) is checked here, by Sparkplug's rule; it is not Vigil's per-device
``seq``, which the mapping derives afterwards.
"""

from __future__ import annotations

from typing import Final

import msgspec

from vigil.ingest.sparkplug.codec import DataType, Metric, Payload, metric_value
from vigil.ingest.sparkplug.topics import SparkplugTopic

BDSEQ: Final = "bdSeq"
REBIRTH: Final = "Node Control/Rebirth"
_CONTROL_PREFIXES: Final = ("Node Control/", "Device Control/", "Properties/")

NO_BIRTH: Final = "no_birth"
UNKNOWN_ALIAS: Final = "unknown_alias"
STALE_DEATH: Final = "stale_death"
INVALID: Final = "invalid_event"
"""Problem codes; the MQTT side stores each as a dead letter with this reason."""


class Sample(msgspec.Struct, frozen=True, gc=False):
    """A metric's value at a time: ``device`` None for the edge node's own metrics."""

    device: str | None
    metric: str
    value: float | bool | str
    time: float


class Presence(msgspec.Struct, frozen=True, gc=False):
    """The node (``device`` None) or a device came online, or went offline (stale)."""

    device: str | None
    online: bool
    time: float


class Problem(msgspec.Struct, frozen=True, gc=False):
    reason: str
    detail: str
    device: str | None = None


class Outcome(msgspec.Struct):
    samples: list[Sample] = []
    presence: list[Presence] = []
    problems: list[Problem] = []
    rebirth: bool = False
    """Ask the edge node for a rebirth (NCMD ``Node Control/Rebirth``) now."""


class _Node(msgspec.Struct):
    bdseq: int
    seq: int
    aliases: dict[str | None, dict[int, str]] = {}
    """Per device (None: the node itself), alias -> metric name, from the births."""
    types: dict[str | None, dict[str, int]] = {}
    """Per device, metric name -> datatype, from the births."""
    missing: set[int] = set()
    gap_since: float | None = None


class EdgeSessions:
    """Every edge node's session, keyed by (group, node).

    ``reorder_timeout``: seconds a gap in ``seq`` may stay open (a late message
    may still fill it) before a rebirth is requested; 0 asks at once.
    ``rebirth_interval``: at most one rebirth request per node this often, so a
    node that keeps sending data without a birth is not flooded with commands.
    """

    def __init__(self, *, reorder_timeout: float = 2.0, rebirth_interval: float = 5.0) -> None:
        self.reorder_timeout = reorder_timeout
        self.rebirth_interval = rebirth_interval
        self._nodes: dict[tuple[str, str], _Node] = {}
        self._asked: dict[tuple[str, str], float] = {}

    def online_devices(self, group: str, node: str) -> list[str | None]:
        """The node (None) and its born devices, while the node is alive."""
        state = self._nodes.get((group, node))
        return [] if state is None else list(state.aliases)

    def step(self, topic: SparkplugTopic, payload: Payload, now: float) -> Outcome:
        key = (topic.group, topic.node)
        out = Outcome()
        verb = topic.verb
        if verb == "NBIRTH":
            self._nbirth(key, payload, now, out)
        elif verb == "NDEATH":
            self._ndeath(key, payload, now, out)
        elif verb in ("NCMD", "DCMD"):
            pass  # commands to the edge (ours among them): not input
        else:
            node = self._nodes.get(key)
            if node is None:
                what = "device" if topic.device is not None else "node"
                out.problems.append(
                    Problem(NO_BIRTH, f"{verb} before any NBIRTH of this {what}'s edge node")
                )
                self._ask(key, now, out)
                return out
            self._sequence(key, node, payload, now, out)
            if verb == "DBIRTH":
                self._birth(node, topic.device, payload, now, out)
            elif verb == "DDEATH":
                self._ddeath(node, topic.device, payload, now, out)
            else:
                self._data(key, node, topic.device, verb, payload, now, out)
        return out

    def due(self, now: float) -> list[tuple[str, str]]:
        """Nodes whose gap outlived the reorder timeout: ask them for a rebirth now."""
        due = []
        for key, node in self._nodes.items():
            if node.gap_since is not None and now - node.gap_since >= self.reorder_timeout:
                node.gap_since, node.missing = None, set()
                self._asked[key] = now
                due.append(key)
        return due

    def lose_all(self, now: float) -> list[tuple[str, str, Presence]]:
        """The host lost the broker: every known node and device is stale until reborn."""
        gone = [
            (group, node, Presence(device, False, now))
            for (group, node), state in self._nodes.items()
            for device in state.aliases
        ]
        self._nodes.clear()
        return gone

    # -- births and deaths ------------------------------------------------------------

    def _nbirth(self, key: tuple[str, str], payload: Payload, now: float, out: Outcome) -> None:
        bdseq = next((m.value for m in payload.metrics if m.name == BDSEQ), None)
        if not isinstance(bdseq, int) or isinstance(bdseq, bool):
            out.problems.append(Problem(INVALID, "NBIRTH without an integer bdSeq metric"))
            return
        if payload.seq is None:
            out.problems.append(Problem(INVALID, "NBIRTH without a seq"))
            return
        # A new birth replaces the previous session whole: its aliases and devices too.
        node = _Node(bdseq=bdseq, seq=payload.seq)
        self._nodes[key] = node
        self._asked.pop(key, None)
        self._birth(node, None, payload, now, out)

    def _birth(
        self, node: _Node, device: str | None, payload: Payload, now: float, out: Outcome
    ) -> None:
        aliases: dict[int, str] = {}
        types: dict[str, int] = {}
        when = _seconds(payload.timestamp, now)
        for metric in payload.metrics:
            if metric.name is None:
                out.problems.append(Problem(INVALID, "a BIRTH metric without a name", device))
                continue
            if metric.alias is not None:
                aliases[metric.alias] = metric.name
            types[metric.name] = metric.datatype
            self._sample(device, metric.name, metric.datatype, metric, when, out)
        node.aliases[device] = aliases
        node.types[device] = types
        out.presence.append(Presence(device, True, when))

    def _ndeath(self, key: tuple[str, str], payload: Payload, now: float, out: Outcome) -> None:
        bdseq = next((m.value for m in payload.metrics if m.name == BDSEQ), None)
        node = self._nodes.get(key)
        if node is None:
            out.problems.append(Problem(STALE_DEATH, "NDEATH of an edge node with no live NBIRTH"))
            return
        if bdseq != node.bdseq:
            out.problems.append(
                Problem(
                    STALE_DEATH,
                    f"NDEATH bdSeq {bdseq} does not match the current NBIRTH's "
                    f"{node.bdseq}: a death of an earlier session, ignored",
                )
            )
            return
        # Offline at the host's own clock: the Will was written at CONNECT time.
        del self._nodes[key]
        out.presence.extend(Presence(device, False, now) for device in node.aliases)

    def _ddeath(
        self, node: _Node, device: str | None, payload: Payload, now: float, out: Outcome
    ) -> None:
        if device not in node.aliases:
            out.problems.append(Problem(NO_BIRTH, "DDEATH of a device with no DBIRTH", device))
            return
        del node.aliases[device]
        node.types.pop(device, None)
        out.presence.append(Presence(device, False, _seconds(payload.timestamp, now)))

    # -- data ---------------------------------------------------------------------------

    def _data(
        self,
        key: tuple[str, str],
        node: _Node,
        device: str | None,
        verb: str,
        payload: Payload,
        now: float,
        out: Outcome,
    ) -> None:
        aliases = node.aliases.get(device)
        if aliases is None:
            out.problems.append(Problem(NO_BIRTH, f"{verb} of a device with no DBIRTH", device))
            self._ask(key, now, out)
            return
        types = node.types[device]
        default_time = _seconds(payload.timestamp, now)
        for metric in payload.metrics:
            name = metric.name if metric.name is not None else aliases.get(metric.alias or -1)
            if name is None or name not in types:
                what = f"alias {metric.alias}" if metric.name is None else f"metric {name!r}"
                out.problems.append(
                    Problem(UNKNOWN_ALIAS, f"{verb} names {what}, which no BIRTH defined", device)
                )
                self._ask(key, now, out)
                continue
            datatype = metric.datatype or types[name]
            self._sample(device, name, datatype, metric, default_time, out)

    def _sample(
        self,
        device: str | None,
        name: str,
        datatype: int,
        metric: Metric,
        default_time: float,
        out: Outcome,
    ) -> None:
        if name == BDSEQ or name.startswith(_CONTROL_PREFIXES):
            return
        value = metric_value(datatype, metric.value)
        if value is None or metric.is_null:
            return  # a null, or a type Vigil keeps no reading of (bytes, data sets, ...)
        stamp = metric.timestamp
        when = default_time if stamp is None else stamp / 1000.0
        out.samples.append(Sample(device, name, value, when))

    # -- sequence -------------------------------------------------------------------------

    def _sequence(
        self, key: tuple[str, str], node: _Node, payload: Payload, now: float, out: Outcome
    ) -> None:
        seq = payload.seq
        if seq is None or not 0 <= seq <= 255:
            out.problems.append(Problem(INVALID, f"seq {seq} is not a number from 0 to 255"))
            return
        expected = (node.seq + 1) % 256
        if seq == expected:
            node.seq = seq
            node.missing.discard(seq)
        elif seq in node.missing:  # a late message filling the gap
            node.missing.discard(seq)
        else:
            node.missing.update(_between(expected, seq))
            node.seq = seq
            if node.gap_since is None:
                node.gap_since = now
        if not node.missing:
            node.gap_since = None  # the reorder window closes: nothing lost after all
        elif self.reorder_timeout <= 0:
            node.gap_since, node.missing = None, set()
            self._ask(key, now, out)

    def _ask(self, key: tuple[str, str], now: float, out: Outcome) -> None:
        asked = self._asked.get(key)
        if asked is None or now - asked >= self.rebirth_interval:
            self._asked[key] = now
            out.rebirth = True


def _between(first: int, stop: int) -> set[int]:
    """The seq numbers from ``first`` up to ``stop`` (excluded), wrapping at 256."""
    count = (stop - first) % 256
    return {(first + i) % 256 for i in range(count)}


def _seconds(millis: int | None, now: float) -> float:
    return now if millis is None else millis / 1000.0


__all__ = ["DataType", "EdgeSessions", "Outcome", "Presence", "Problem", "Sample"]
