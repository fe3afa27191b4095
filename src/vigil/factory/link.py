"""Per link: the 5G link health of one entity (a machine, an AGV, a sensor) or one cell.

Devices report their link as ordinary readings (``latency_ms``, ``jitter_ms``,
``packet_loss_pct``, ``rsrp_dbm``, ``rsrq_db``, ``sinr_db``, ``throughput_mbps``,
optionally ``max_gap_ms``: the longest gap between application messages in the
report). The entity's ``cell`` attribute names its serving cell and
``link_class`` its device class (``vigil.factory.service_levels``).

A link is *down* when its reports stop for ``lost_after_seconds`` (counted from
the last report heard), and *degraded* from a report that breaks its class's
latency or loss bound or has SINR below ``low_sinr_db`` until its reports have
been within bounds for ``recover_seconds`` (so a link at the edge of a bound
does not flap; the gap ends at the first good report). Both are gaps in the TS 22.104
sense; the availability over the last ``window_seconds`` and the survival-time
violations follow from them. A cell's own readings (from its network function)
mark radio dips: cell SINR below ``low_sinr_db``.

Each change is a ``Derived`` ``link_event`` with the cell, which ``CellServiceLevel``
and ``StopAttribution`` consume; the figures are latest-value rows (device
``network``) that the network page reads.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.engine.projection_rows import LatestValue
from vigil.events import Derived, EntityConfigured, LogEvent, Reading
from vigil.factory.service_levels import (
    DEFAULT_SERVICE_LEVELS,
    ServiceLevel,
    availability,
    class_of,
    violations,
)

NETWORK = "network"
"""The ``device`` of the latest-value rows the network operators write on an entity."""
LINK_METRICS = frozenset(
    {
        "latency_ms",
        "jitter_ms",
        "packet_loss_pct",
        "rsrp_dbm",
        "rsrq_db",
        "sinr_db",
        "throughput_mbps",
        "max_gap_ms",
    }
)
UNITS = {
    "latency_ms": "ms",
    "jitter_ms": "ms",
    "packet_loss_pct": "%",
    "rsrp_dbm": "dBm",
    "rsrq_db": "dB",
    "sinr_db": "dB",
    "throughput_mbps": "Mbps",
}
_START = 1_780_000_000.0


class LinkState(msgspec.Struct, gc=False):
    tenant: str = ""
    entity: str = ""
    name: str = ""
    kind: str = ""
    cell: str | None = None
    link_class: str = ""
    first: float | None = None
    last: float | None = None
    down_since: float | None = None
    bad: dict[str, float] = {}
    """Metric → its latest value breaking the bound (the link is degraded while any)."""
    bad_since: float | None = None
    good_since: float | None = None
    """While degraded: since when every report has been within bounds again."""
    gaps: list[tuple[float, float, str]] = []
    """Closed gaps (begin, end, ``down`` or ``degraded``) within the window."""
    metrics: dict[str, float] = {}
    published: float = 0.0
    announced: bool = False


def clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M")


class LinkHealth(KeyedOperator[LinkState]):
    """Link state, availability and survival-time violations of one entity's 5G link.

    >>> op = LinkHealth()
    >>> cfg = EntityConfigured(tenant="t", time=0.0, entity="m1", kind="machine",
    ...                        name="M1", attributes={"cell": "c1"})
    >>> s, out = op.process(op.initial_state("m1"), cfg)
    >>> def latency(t, ms):
    ...     return Reading(tenant="t", device="m1.modem", entity="m1", seq=int(t) + 1,
    ...                    time=float(t), metric="latency_ms", value=ms)
    >>> s, _ = op.process(s, latency(0, 9.0))
    >>> s, out = op.on_time(s, 30.0)
    >>> [o.data["event"] for o in out if isinstance(o, Derived)]
    ['down']
    >>> s, out = op.process(s, latency(60, 9.0))
    >>> [(o.data["event"], o.data["seconds"]) for o in out if isinstance(o, Derived)]
    [('up', 60.0)]
    """

    name = "link_health"
    State = LinkState
    late_policy = LatePolicy.PROCESS
    """Configuration comes at wall time, history may follow it: lateness is judged
    against the last report, and a report older than that by ``late_seconds`` is skipped."""

    def __init__(
        self,
        *,
        service_levels: dict[str, ServiceLevel] | None = None,
        lost_after_seconds: float = 25.0,
        low_sinr_db: float = 3.0,
        recover_seconds: float = 60.0,
        late_seconds: float = 30.0,
        window_seconds: float = 3600.0,
        publish_seconds: float = 60.0,
    ) -> None:
        self.service_levels = dict(service_levels or DEFAULT_SERVICE_LEVELS)
        self.lost_after_seconds = lost_after_seconds
        self.low_sinr_db = low_sinr_db
        self.recover_seconds = recover_seconds
        self.late_seconds = late_seconds
        self.window_seconds = window_seconds
        self.publish_seconds = publish_seconds

    @classmethod
    def sample_inputs(cls, seed: int = 0) -> list[LogEvent]:
        """Two tenants, a cell and two machines each, 2 h of link reports with gaps."""
        rng = random.Random(seed)
        events: list[LogEvent] = []
        for tenant in ("tenant-0", "tenant-1"):
            cell = f"{tenant}.cell-1"
            events.append(
                EntityConfigured(tenant=tenant, time=_START - 1, entity=cell, kind="cell")
            )
            for n in range(2):
                entity = f"{tenant}.m-{n}"
                events.append(
                    EntityConfigured(
                        tenant=tenant,
                        time=_START - 1,
                        entity=entity,
                        kind="machine",
                        attributes={"cell": cell},
                    )
                )
            seq: dict[str, int] = {}
            time = _START
            while time < _START + 2 * 3600:
                time += 10.0
                bad = rng.random() < 0.05
                for entity in (cell, f"{tenant}.m-0", f"{tenant}.m-1"):
                    if entity != cell and rng.random() < 0.03:
                        continue  # a lost report
                    seq[entity] = seq.get(entity, 0) + 1
                    metric = "sinr_db" if entity == cell else rng.choice(["latency_ms", "sinr_db"])
                    value = (1.0 if bad else 18.0) if metric == "sinr_db" else 9.0 + 90 * bad
                    events.append(
                        Reading(
                            tenant=tenant,
                            device=f"{entity}.modem",
                            entity=entity,
                            seq=seq[entity],
                            time=time,
                            metric=metric,
                            value=value,
                        )
                    )
        return sorted(events, key=lambda e: e.timestamp)

    def key(self, event: LogEvent) -> str | None:
        kind = type(event)
        if kind is Reading and event.metric in LINK_METRICS:  # type: ignore[union-attr]
            return event.entity  # type: ignore[union-attr]
        if kind is EntityConfigured and (
            event.kind == "cell" or "cell" in event.attributes  # type: ignore[union-attr]
        ):
            return event.entity  # type: ignore[union-attr]
        return None

    # -- events ------------------------------------------------------------------------

    def process(self, state: LinkState, event: LogEvent) -> tuple[LinkState, list[Emission]]:
        outputs: list[Emission] = []
        if type(event) is EntityConfigured:
            self._configure(state, event, outputs)
            return state, outputs
        assert type(event) is Reading
        if not state.tenant:
            state.tenant, state.entity = event.tenant, event.entity
            state.link_class = state.link_class or class_of("", {}, self.service_levels)
        value = event.value
        if type(value) is not float or not math.isfinite(value):
            return state, outputs
        time = event.timestamp
        if state.last is not None and time < state.last - self.late_seconds:
            return state, outputs  # a late report: the gaps around it are already judged
        if state.first is None:
            state.first = time
            self._announce(state, time, outputs, since=time)  # seen from its first report
        silent = state.last is not None and time - state.last >= self.lost_after_seconds
        if state.down_since is None and silent and state.kind != "cell":
            if state.bad_since is not None and state.last is not None:
                self._gap(state, state.bad_since, state.last, "degraded")
                state.bad, state.bad_since, state.good_since = {}, None, None
            state.down_since = state.last  # a gap no timer saw (history behind the clock)
            self._event(state, time, outputs, "down", since=state.last)
        state.last = max(time, state.last or time)
        if state.down_since is not None:
            self._gap(state, state.down_since, time, "down")
            self._event(state, time, outputs, "up", since=state.down_since)
            state.down_since = None
        state.metrics[event.metric] = value
        self._judge(state, event.metric, value, time, outputs)
        self._prune(state, time)
        if time - state.published >= self.publish_seconds:
            self._publish(state, time, outputs)
        return state, outputs

    def next_wakeup(self, state: LinkState) -> float | None:
        if state.last is None or state.kind == "cell":
            return None
        if state.down_since is None:
            return state.last + self.lost_after_seconds
        return state.published + self.publish_seconds

    def on_time(self, state: LinkState, now: float) -> tuple[LinkState, list[Emission]]:
        outputs: list[Emission] = []
        if state.last is None or state.kind == "cell":
            return state, outputs
        if state.down_since is None and now >= state.last + self.lost_after_seconds:
            if state.bad_since is not None:
                self._gap(state, state.bad_since, state.last, "degraded")
                state.bad, state.bad_since, state.good_since = {}, None, None
            state.down_since = state.last
            self._event(state, now, outputs, "down", since=state.last)
        if now - state.published >= self.publish_seconds or outputs:
            self._prune(state, now)
            self._publish(state, now, outputs)
        return state, outputs

    # -- judging -----------------------------------------------------------------------

    def _configure(
        self, state: LinkState, event: EntityConfigured, outputs: list[Emission]
    ) -> None:
        state.tenant, state.entity = event.tenant, event.entity
        state.name, state.kind = event.name or event.entity, event.kind
        cell = event.attributes.get("cell")
        state.cell = (
            event.entity if event.kind == "cell" else (cell if isinstance(cell, str) else None)
        )
        state.link_class = class_of(event.kind, event.attributes, self.service_levels)
        self._announce(state, event.time, outputs, since=state.first)

    def _announce(
        self, state: LinkState, time: float, outputs: list[Emission], *, since: float | None
    ) -> None:
        """Tell the cell about the link: ``since`` its first report (None: none yet)."""
        state.announced = state.cell is not None
        if state.cell is not None:
            what = "cell" if state.kind == "cell" else "seen"
            self._event(state, time, outputs, what, since=since)

    def _bound_broken(self, state: LinkState, metric: str, value: float) -> bool:
        level = self.service_levels.get(state.link_class)
        if metric == "sinr_db":
            return value < self.low_sinr_db
        if state.kind == "cell" or level is None:
            return False
        if metric == "latency_ms":
            return value > level.max_latency_ms
        if metric == "packet_loss_pct":
            return value > level.max_loss_pct
        return False

    def _judge(
        self, state: LinkState, metric: str, value: float, time: float, outputs: list[Emission]
    ) -> None:
        level = self.service_levels.get(state.link_class)
        if metric == "max_gap_ms" and level is not None and state.kind != "cell":
            if value / 1000.0 > level.survival_seconds:  # a gap the device saw itself
                self._gap(state, time - value / 1000.0, time, "gap")
            return
        if self._bound_broken(state, metric, value):
            state.bad[metric] = value
        else:
            state.bad.pop(metric, None)
        if state.bad:
            state.good_since = None
            if state.bad_since is None:
                state.bad_since = time
                what = "dip" if state.kind == "cell" else "degraded"
                self._event(state, time, outputs, what, since=time, detail=self._detail(state))
            return
        if state.bad_since is None:
            return
        if state.good_since is None:
            state.good_since = time  # good again: recovered once it stays good a while
        if time - state.good_since < self.recover_seconds:
            return
        since, end = state.bad_since, state.good_since
        state.bad_since = state.good_since = None
        if state.kind != "cell":
            self._gap(state, since, end, "degraded")
        self._event(
            state, time, outputs, "recovered" if state.kind == "cell" else "ok", since=since
        )

    def _detail(self, state: LinkState) -> str:
        words = {"latency_ms": "latency", "packet_loss_pct": "packet loss", "sinr_db": "SINR"}
        return ", ".join(
            f"{words.get(m, m)} {v:g} {UNITS.get(m, '')}".strip()
            for m, v in sorted(state.bad.items())
        )

    def _gap(self, state: LinkState, begin: float, end: float, what: str) -> None:
        if end > begin:
            state.gaps.append((begin, end, what))

    def _prune(self, state: LinkState, now: float) -> None:
        horizon = now - self.window_seconds
        if state.gaps and state.gaps[0][1] < horizon:
            state.gaps = [g for g in state.gaps if g[1] >= horizon]

    # -- what it says ------------------------------------------------------------------

    def figures(self, state: LinkState, now: float) -> tuple[float | None, int, float]:
        """(availability, survival-time violations, unavailable seconds) over the window."""
        level = self.service_levels.get(state.link_class)
        survival = level.survival_seconds if level is not None else 0.0
        gaps = [(b, e) for b, e, _ in state.gaps]
        for since in (state.down_since, state.bad_since):
            if since is not None:
                gaps.append((since, now))
        begin = max(now if state.first is None else state.first, now - self.window_seconds)
        found = availability(gaps, begin, now, survival)
        count = violations(gaps, survival, now - self.window_seconds)
        lost = 0.0 if found is None else (1.0 - found) * (now - begin)
        return found, count, lost

    def _event(
        self,
        state: LinkState,
        time: float,
        outputs: list[Emission],
        what: str,
        *,
        since: float | None,
        detail: str = "",
    ) -> None:
        if state.cell is None:
            return
        data: dict[str, Any] = {
            "cell": state.cell,
            "event": what,
            "since": since,
            "name": state.name or state.entity,
            "link_class": state.link_class,
            "kind": state.kind,
        }
        if what in ("up", "ok", "recovered") and since is not None:
            data["seconds"] = round(time - since, 3)
        if detail:
            data["detail"] = detail
        if "sinr_db" in state.metrics:
            data["sinr_db"] = state.metrics["sinr_db"]
        outputs.append(
            Derived(
                tenant=state.tenant, time=time, entity=state.entity, kind="link_event", data=data
            )
        )

    def _publish(self, state: LinkState, time: float, outputs: list[Emission]) -> None:
        state.published = time
        rows: list[tuple[str, float | None, str | None, str | None]] = []
        for metric in sorted(state.metrics):
            rows.append((metric, state.metrics[metric], None, UNITS.get(metric)))
        if state.kind == "cell":
            text = f"SINR dip since {clock(state.bad_since)}" if state.bad_since else "normal"
            rows.append(("radio", None, text, None))
        else:
            if state.down_since is not None:
                text = f"down since {clock(state.down_since)}"
            elif state.bad_since is not None:
                text = f"degraded since {clock(state.bad_since)}: {self._detail(state)}"
            else:
                text = "up"
            found, count, lost = self.figures(state, time)
            rows += [
                ("link", None, text, None),
                ("link_class", None, state.link_class, None),
                ("availability", None if found is None else round(100 * found, 5), None, "%"),
                ("survival_violations", float(count), None, None),
                ("unavailable_s", round(lost, 1), None, "s"),
            ]
        for metric, value, text, unit in rows:
            outputs.append(
                LatestValue(
                    tenant=state.tenant,
                    entity=state.entity,
                    device=NETWORK,
                    metric=metric,
                    value=value,
                    text=text,
                    time=time,
                    unit=unit,
                )
            )
