"""Per cell: availability of its links against the service level of each device class.

Chained after ``LinkHealth``: its ``link_event``s say when each link of the cell
was seen, went down or degraded and came back. Every ``evaluate_seconds`` (and on
every event) the cell works out each link's communication service availability
over the last ``window_seconds`` (TS 22.104, ``vigil.factory.service_levels``) and,
per device class, opens, updates or closes a ``network_service_level`` condition:
"Cell 2: 3 of 40 sensor links missed 99.99% availability in the last hour;
worst: M7 link down 4 min 12 s."
"""

from __future__ import annotations

from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.engine.projection_rows import LatestValue
from vigil.events import ConditionChange, ConditionSignal, Derived, LogEvent
from vigil.factory.link import NETWORK, LinkHealth
from vigil.factory.service_levels import (
    DEFAULT_SERVICE_LEVELS,
    ServiceLevel,
    availability,
    duration,
    percent_text,
)

ENGINEER = "engineer"
CONDITION_KINDS = {
    "network_service_level": "A class of devices in a 5G cell missed its availability target.",
}


class Link(msgspec.Struct, array_like=True, gc=False):
    name: str
    link_class: str
    first: float | None
    """Its first report (None: configured, not heard yet)."""
    gaps: list[tuple[float, float, str]] = []
    open_since: float | None = None
    open_kind: str = ""


class CellState(msgspec.Struct, gc=False):
    tenant: str = ""
    entity: str = ""
    name: str = ""
    links: dict[str, Link] = {}
    missed: dict[str, list[str]] = {}
    """Per class with an open condition: the links that missed, as last reported."""
    clock: float = 0.0


class CellServiceLevel(KeyedOperator[CellState]):
    """Service level per device class of one cell, with an explained condition.

    >>> op = CellServiceLevel(window_seconds=3600.0)
    >>> def event(t, entity, what, since):
    ...     return Derived(tenant="t", time=t, entity=entity, kind="link_event",
    ...                    data={"cell": "c2", "event": what, "since": since,
    ...                          "name": entity.upper(), "link_class": "sensor"})
    >>> s = op.initial_state("c2")
    >>> s, _ = op.process(s, event(0.0, "m1", "seen", 0.0))
    >>> s, _ = op.process(s, event(0.0, "m7", "seen", 0.0))
    >>> s, _ = op.process(s, event(100.0, "m7", "down", 100.0))
    >>> s, out = op.process(s, event(352.0, "m7", "up", 100.0))
    >>> import textwrap
    >>> print(textwrap.fill(*[o.message for o in out if isinstance(o, ConditionSignal)], 70))
    c2: 1 of 2 sensor links missed 99.99% availability in the last hour;
    worst: M7 link down 4 min 9 s.
    """

    name = "cell_service_level"
    State = CellState
    late_policy = LatePolicy.PROCESS

    def __init__(
        self,
        *,
        service_levels: dict[str, ServiceLevel] | None = None,
        window_seconds: float = 3600.0,
        evaluate_seconds: float = 60.0,
    ) -> None:
        self.service_levels = dict(service_levels or DEFAULT_SERVICE_LEVELS)
        self.window_seconds = window_seconds
        self.evaluate_seconds = evaluate_seconds

    @classmethod
    def sample_inputs(cls, seed: int = 0) -> list[LogEvent]:
        """What it consumes: ``LinkHealth``'s derived events over its own sample."""
        return _derived(LinkHealth(), LinkHealth.sample_inputs(seed))

    def key(self, event: LogEvent) -> str | None:
        if type(event) is Derived and event.kind == "link_event":
            cell = event.data.get("cell")
            return cell if isinstance(cell, str) and cell else None
        return None

    def process(self, state: CellState, event: LogEvent) -> tuple[CellState, list[Emission]]:
        assert type(event) is Derived
        data, time = event.data, event.timestamp
        state.tenant, state.entity = event.tenant, str(data["cell"])
        what = data.get("event")
        raw = data.get("since")
        if what == "cell":
            state.name = str(data.get("name") or state.entity)
            return state, []
        if what in ("dip", "recovered"):
            return state, []
        name = str(data.get("name") or event.entity)
        link = state.links.setdefault(
            event.entity, Link(name=name, link_class="sensor", first=None)
        )
        link.name, link.link_class = name, str(data.get("link_class") or link.link_class)
        if not isinstance(raw, int | float):
            return state, []  # configured, never heard yet: not judged, no clock
        since = float(raw)
        link.first = since if link.first is None else min(link.first, since)
        state.clock = max(state.clock, time)
        if what in ("down", "degraded") and link.open_since is None:
            link.open_since, link.open_kind = since, str(what)
        elif what == "down":
            link.open_kind = "down"  # degraded, then lost: one gap, the worse of the two
        elif what in ("up", "ok") and link.open_since is not None:
            link.gaps.append((link.open_since, time, link.open_kind))
            link.open_since, link.open_kind = None, ""
        return state, self._evaluate(state, state.clock, changed=link.link_class)

    def next_wakeup(self, state: CellState) -> float | None:
        return state.clock + self.evaluate_seconds if state.links else None

    def on_time(self, state: CellState, now: float) -> tuple[CellState, list[Emission]]:
        state.clock = max(state.clock, now)
        return state, self._evaluate(state, now)

    # -- evaluation --------------------------------------------------------------------

    def link_availability(self, link: Link, now: float) -> tuple[float | None, float, str]:
        """(availability, unavailable seconds, what the longest gap was) over the window."""
        if link.first is None:
            return None, 0.0, ""
        level = self.service_levels.get(link.link_class)
        survival = level.survival_seconds if level is not None else 0.0
        gaps = [(b, e) for b, e, _ in link.gaps]
        kinds = [k for _, _, k in link.gaps]
        if link.open_since is not None:
            gaps.append((link.open_since, now))
            kinds.append(link.open_kind)
        begin = max(link.first, now - self.window_seconds)
        found = availability(gaps, begin, now, survival)
        lost = 0.0 if found is None else (1.0 - found) * (now - begin)
        worst = max(zip(gaps, kinds, strict=True), key=lambda gk: gk[0][1] - gk[0][0], default=None)
        return found, lost, "link down" if worst is None or worst[1] == "down" else worst[1]

    def _evaluate(self, state: CellState, now: float, changed: str = "") -> list[Emission]:
        """Figures per class; a condition signal when the links that missed change, or
        when a link of ``changed`` (the class of the event) moved on."""
        horizon = now - self.window_seconds
        for link in state.links.values():
            if link.gaps and link.gaps[0][1] < horizon:
                link.gaps = [g for g in link.gaps if g[1] >= horizon]
        outputs: list[Emission] = []
        by_class: dict[str, list[tuple[str, Link]]] = {}
        for entity, link in sorted(state.links.items()):
            by_class.setdefault(link.link_class, []).append((entity, link))
        for link_class, links in sorted(by_class.items()):
            level = self.service_levels.get(link_class)
            if level is None:
                continue
            scored = []
            for entity, link in links:
                found, lost, what = self.link_availability(link, now)
                if found is not None:
                    scored.append((found, lost, what, entity, link))
            missed = sorted(
                (s for s in scored if s[0] < level.availability), key=lambda s: (s[0], s[3])
            )
            lowest = min((s[0] for s in scored), default=None)
            outputs += self._rows(state, link_class, len(links), len(missed), lowest, level, now)
            fresh = link_class == changed
            outputs += self._signal(state, link_class, level, len(links), missed, now, fresh)
        return outputs

    def _rows(
        self,
        state: CellState,
        link_class: str,
        total: int,
        missed: int,
        lowest: float | None,
        level: ServiceLevel,
        now: float,
    ) -> list[Emission]:
        text = f"{total - missed} of {total} met {percent_text(level.availability)}"
        low = None if lowest is None else round(100 * lowest, 5)
        return [
            LatestValue(
                tenant=state.tenant,
                entity=state.entity,
                device=NETWORK,
                metric=metric,
                value=value,
                text=words,
                time=now,
                unit=unit,
            )
            for metric, value, words, unit in (
                (f"sl_{link_class}", float(missed), text, None),
                (f"availability_{link_class}", low, None, "%"),
            )
        ]

    def _signal(
        self,
        state: CellState,
        link_class: str,
        level: ServiceLevel,
        total: int,
        missed: list[tuple[float, float, str, str, Link]],
        now: float,
        fresh: bool = False,
    ) -> list[Emission]:
        names = [entity for *_, entity, _ in missed]
        before = state.missed.get(link_class)
        if not missed and before is None:
            return []
        cell = state.name or state.entity
        target = percent_text(level.availability)
        change: ConditionChange
        if not missed:
            assert before is not None
            del state.missed[link_class]
            change = "close"
            message = (
                f"{cell}: every {level.title} link meets {target} availability again "
                f"over the last {_window(self.window_seconds)}."
            )
        else:
            if before == names and not fresh:
                return []
            change = "open" if before is None else "update"
            state.missed[link_class] = names
            _, lost, what, _, link = missed[0]
            message = (
                f"{cell}: {len(missed)} of {total} {link_class} links missed {target} "
                f"availability in the last {_window(self.window_seconds)}; worst: {link.name} "
                f"{what} {duration(lost)}."
            )
        evidence: dict[str, Any] = {
            "cell": state.entity,
            "link_class": link_class,
            "target": level.availability,
            "survival_seconds": level.survival_seconds,
            "links": total,
            "missed": [
                {
                    "entity": e,
                    "name": link.name,
                    "availability": round(a, 7),
                    "unavailable_s": round(u, 1),
                }
                for a, u, _, e, link in missed[:20]
            ],
        }
        return [
            ConditionSignal(
                tenant=state.tenant,
                time=now,
                entity=state.entity,
                key=f"network_service_level:{state.entity}:{link_class}",
                change=change,
                kind="network_service_level",
                severity="warning",
                message=message,
                evidence=evidence,
                route=ENGINEER,
                source=self.name,
            )
        ]


def _window(seconds: float) -> str:
    return "hour" if seconds == 3600 else duration(seconds)


def _derived(operator: KeyedOperator[Any], events: list[LogEvent]) -> list[LogEvent]:
    """The derived events ``operator`` makes of ``events`` (timers fired per event time)."""
    from vigil.engine.keyed import KeyedRunner
    from vigil.engine.records import LogRecord

    runner = KeyedRunner(operator)
    records = [LogRecord(n, e.timestamp, e) for n, e in enumerate(events, start=1)]
    return [e.output for e in runner.process(records) if isinstance(e.output, Derived)]
