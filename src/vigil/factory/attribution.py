"""Per cell: was a machine stop the machine or the network?

Chained after ``MachineOEE`` (its ``machine_oee`` events carry each machine's
state, stop reason and cell) and ``LinkHealth`` (its ``link_event``s: a link lost,
degraded, a cell's SINR dip). When a stop ends, it is attributed to the network
if the machine's own signals do not explain it (no reason, or one in
``unexplained_reasons``: a safety stop says nothing about why) and a network event
of its cell precedes it closely: the machine's own link lost or degraded at the
stop's start or within ``before_seconds`` before it (``after_seconds`` after: the
stop may be reported first), or a cell-wide SINR dip or another link's loss that
began in that window. Stops attributed close together form one incident per
cell, explained and kept:

- a durable ``network_stop`` finding per attributed stop (what the network page
  lists), with the incident's explanation so far;
- a ``network_stop`` condition per incident, opened at its first stop, updated
  as more machines join, closed ``quiet_seconds`` after its last stop ended:
  "cell 2 SINR fell at 14:01; machines M3 and M7 lost their link at 14:02 and
  stopped until 14:06."
"""

from __future__ import annotations

from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy, Output
from vigil.events import ConditionSignal, Derived, LogEvent
from vigil.factory.cell import ENGINEER, _derived
from vigil.factory.link import LinkHealth, clock

CONDITION_KINDS = {
    "network_stop": "Machines stopped because their 5G cell's radio or links failed.",
}
STOPS = frozenset({"down", "unknown"})
UNEXPLAINED = ("unknown", "safety_stop", "emergency_stop", "estop", "comms", "communication")


class NetEvent(msgspec.Struct, array_like=True, gc=False):
    entity: str
    name: str
    what: str
    """``down``/``degraded`` (a link) or ``dip`` (the cell's SINR)."""
    start: float
    end: float | None = None
    detail: str = ""


class Track(msgspec.Struct, array_like=True, gc=False):
    name: str
    stopped: float | None = None
    reason: str = ""


class Blamed(msgspec.Struct, array_like=True, gc=False):
    entity: str
    name: str
    start: float
    end: float
    lost_link: float | None = None


class AttributionState(msgspec.Struct, gc=False):
    tenant: str = ""
    entity: str = ""
    name: str = ""
    events: list[NetEvent] = []
    machines: dict[str, Track] = {}
    incident: list[Blamed] = []
    dip: NetEvent | None = None
    """The cell's first SINR dip of the open incident, if any."""
    clock: float = 0.0


class StopAttribution(KeyedOperator[AttributionState]):
    """Machine stops of one cell attributed to the network, or not, with the evidence.

    >>> op = StopAttribution()
    >>> def link(t, what):
    ...     return Derived(tenant="t", time=t, entity="m3", kind="link_event",
    ...                    data={"cell": "c2", "event": what, "since": t, "name": "M3"})
    >>> def machine(t, state, reason=None):
    ...     return Derived(tenant="t", time=t, entity="m3", kind="machine_oee",
    ...                    data={"cell": "c2", "name": "M3", "state": state, "reason": reason})
    >>> s = op.initial_state("c2")
    >>> for event in (link(120.0, "down"), machine(123.0, "down"), link(360.0, "up")):
    ...     s, _ = op.process(s, event)
    >>> s, out = op.process(s, machine(400.0, "running"))
    >>> [o.message for o in out if isinstance(o, Output)]
    ['c2: machine M3 lost its link at 00:02 and stopped until 00:06.']
    """

    name = "stop_attribution"
    State = AttributionState
    late_policy = LatePolicy.PROCESS

    def __init__(
        self,
        *,
        before_seconds: float = 120.0,
        after_seconds: float = 60.0,
        unexplained_reasons: tuple[str, ...] = UNEXPLAINED,
        quiet_seconds: float = 1800.0,
        history_seconds: float = 4 * 3600.0,
    ) -> None:
        self.before_seconds = before_seconds
        self.after_seconds = after_seconds
        self.unexplained_reasons = unexplained_reasons
        self.quiet_seconds = quiet_seconds
        self.history_seconds = history_seconds

    @classmethod
    def sample_inputs(cls, seed: int = 0) -> list[LogEvent]:
        """Link events from ``LinkHealth``'s sample, with machine stops around its gaps."""
        links = _derived(LinkHealth(), LinkHealth.sample_inputs(seed))
        events: list[LogEvent] = list(links)
        for n, event in enumerate(e for e in links if e.data.get("event") == "down"):  # type: ignore[union-attr]
            data = {"cell": event.data["cell"], "name": event.entity, "line": "l"}  # type: ignore[union-attr]
            reason = None if n % 3 else "jam"
            for dt, state in ((5.0, "down"), (400.0, "running")):
                events.append(
                    Derived(
                        tenant=event.tenant,
                        time=event.time + dt,
                        entity=event.entity,  # type: ignore[union-attr]
                        kind="machine_oee",
                        data={**data, "state": state, "reason": reason},
                    )
                )
        return sorted(events, key=lambda e: e.timestamp)

    def key(self, event: LogEvent) -> str | None:
        if type(event) is Derived and event.kind in ("link_event", "machine_oee"):
            cell = event.data.get("cell")
            return cell if isinstance(cell, str) and cell else None
        return None

    def process(
        self, state: AttributionState, event: LogEvent
    ) -> tuple[AttributionState, list[Emission]]:
        assert type(event) is Derived
        state.tenant, state.entity = event.tenant, str(event.data["cell"])
        state.clock = max(state.clock, event.timestamp)
        if event.kind == "link_event":
            self._network(state, event)
            return state, []
        return state, self._machine(state, event)

    def next_wakeup(self, state: AttributionState) -> float | None:
        if not state.incident:
            return None
        return max(b.end for b in state.incident) + self.quiet_seconds

    def on_time(
        self, state: AttributionState, now: float
    ) -> tuple[AttributionState, list[Emission]]:
        wake = self.next_wakeup(state)
        if wake is None or now < wake:
            return state, []
        last = max(b.end for b in state.incident)
        message = (
            f"{self._cell(state)}: no machine stopped for the network since {clock(last)}. "
            f"{self.explain(state)}"
        )
        signal = self._signal(state, now, "close", message)
        state.incident, state.dip = [], None
        return state, [signal]

    # -- inputs ------------------------------------------------------------------------

    def _network(self, state: AttributionState, event: Derived) -> None:
        data = event.data
        what, since = data.get("event"), data.get("since")
        start = float(since) if isinstance(since, int | float) else event.timestamp
        name = str(data.get("name") or event.entity)
        if what == "cell":
            state.name = name
        elif what in ("down", "degraded", "dip"):
            if what == "down":  # a degraded link that is lost is no longer degraded
                for found in state.events:
                    if found.entity == event.entity and found.end is None:
                        found.end = start
            detail = str(data.get("detail") or "")
            state.events.append(NetEvent(event.entity, name, str(what), start, None, detail))
        elif what in ("up", "ok", "recovered"):
            ended = {"up": "down", "ok": "degraded", "recovered": "dip"}[str(what)]
            for found in reversed(state.events):
                if found.entity == event.entity and found.what == ended and found.end is None:
                    found.end = event.timestamp
                    break
        horizon = state.clock - self.history_seconds
        state.events = [e for e in state.events if e.end is None or e.end >= horizon]

    def _machine(self, state: AttributionState, event: Derived) -> list[Emission]:
        data, time = event.data, event.timestamp
        track = state.machines.setdefault(event.entity, Track(name=event.entity))
        track.name = str(data.get("name") or track.name)
        stopped = str(data.get("state", "unknown")) in STOPS
        reason = data.get("reason")
        if stopped and track.stopped is None:
            track.stopped, track.reason = time, ""
        if stopped and isinstance(reason, str) and reason:
            track.reason = reason
        if stopped or track.stopped is None:
            return []
        start, why = track.stopped, track.reason
        track.stopped, track.reason = None, ""
        return self._decide(state, event.entity, track.name, start, time, why)

    # -- the decision ------------------------------------------------------------------

    def explained(self, reason: str) -> bool:
        """Whether the machine's own stop reason explains the stop."""
        return bool(reason) and reason.strip().lower() not in self.unexplained_reasons

    def evidence(self, state: AttributionState, entity: str, start: float) -> list[NetEvent]:
        """Network events of the cell that precede a stop of ``entity`` at ``start`` closely."""
        early, late = start - self.before_seconds, start + self.after_seconds
        found = []
        for e in state.events:
            began_near = early <= e.start <= late
            own_active = (
                e.entity == entity
                and e.what == "down"
                and e.start <= late
                and (e.end is None or e.end >= start)
            )
            if began_near or own_active:
                found.append(e)
        return found

    def _decide(
        self, state: AttributionState, entity: str, name: str, start: float, end: float, reason: str
    ) -> list[Emission]:
        if self.explained(reason):
            return []
        evidence = self.evidence(state, entity, start)
        if not evidence:
            return []
        own = [e for e in evidence if e.entity == entity and e.what == "down"]
        change = "update" if state.incident else "open"
        dips = [e for e in evidence if e.what == "dip"]
        if dips and state.dip is None:
            state.dip = dips[0]
        blamed = Blamed(entity, name, start, end, min((e.start for e in own), default=None))
        state.incident.append(blamed)
        message = self.explain(state)
        data: dict[str, Any] = {
            "cell": state.entity,
            "cell_name": self._cell(state),
            "machine": entity,
            "machine_name": name,
            "stop_start": start,
            "stop_end": end,
            "reason": reason or None,
            "incident": min(b.start for b in state.incident),
            "evidence": [
                {
                    "entity": e.entity,
                    "name": e.name,
                    "event": e.what,
                    "start": e.start,
                    "end": e.end,
                    "detail": e.detail,
                }
                for e in evidence[:10]
            ],
        }
        finding = Output(
            kind="network_stop",
            tenant=state.tenant,
            entity=entity,
            time=end,
            data=data,
            message=message,
            durable=True,
        )
        return [finding, self._signal(state, end, change, message)]

    # -- what it says ------------------------------------------------------------------

    def _cell(self, state: AttributionState) -> str:
        return state.name or state.entity

    def explain(self, state: AttributionState) -> str:
        """The open incident in words: the radio, who lost the link, who stopped, until when."""
        parts = []
        if state.dip is not None:
            parts.append(f"{self._cell(state)} SINR fell at {clock(state.dip.start)}")
        lost = [b for b in state.incident if b.lost_link is not None]
        other = [b for b in state.incident if b.lost_link is None]
        if lost:
            at = clock(min(b.lost_link for b in lost if b.lost_link is not None))
            verb = "lost their link" if len(lost) > 1 else "lost its link"
            until = clock(max(b.end for b in lost))
            parts.append(f"{_machines(lost)} {verb} at {at} and stopped until {until}")
        if other:
            parts.append(
                f"{_machines(other)} stopped at {clock(min(b.start for b in other))} "
                f"until {clock(max(b.end for b in other))}"
            )
        text = "; ".join(parts)
        return (text if state.dip is not None else f"{self._cell(state)}: {text}") + "."

    def _signal(
        self, state: AttributionState, time: float, change: Any, message: str
    ) -> ConditionSignal:
        start = min((b.start for b in state.incident), default=time)
        return ConditionSignal(
            tenant=state.tenant,
            time=time,
            entity=state.entity,
            key=f"network_stop:{state.entity}",
            change=change,
            kind="network_stop",
            severity="warning",
            message=message,
            evidence={
                "cell": state.entity,
                "incident": start,
                "machines": [
                    {"entity": b.entity, "name": b.name, "stop_start": b.start, "stop_end": b.end}
                    for b in state.incident[:40]
                ],
            },
            route=ENGINEER,
            source=self.name,
        )


def _machines(blamed: list[Blamed]) -> str:
    names = sorted({b.name for b in blamed})
    if len(names) == 1:
        return f"machine {names[0]}"
    return f"machines {', '.join(names[:-1])} and {names[-1]}"
