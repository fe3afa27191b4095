"""5G network health: TS 22.104 availability and survival-time arithmetic on
hand-computed examples, link health, and the attribution of machine stops."""

from __future__ import annotations

import pytest

from vigil.engine.operator import Output
from vigil.engine.projection_rows import LatestValue
from vigil.events import ConditionSignal, Derived, EntityConfigured, Reading
from vigil.factory import LinkHealth, StopAttribution
from vigil.factory.service_levels import (
    DEFAULT_SERVICE_LEVELS,
    availability,
    covered,
    duration,
    percent_text,
    unavailable,
    violations,
)

# -- arithmetic -----------------------------------------------------------------------


def test_a_gap_costs_its_length_less_the_survival_time() -> None:
    """A 60 s gap with 10 s survival time costs 50 s of a 3600 s hour: 1 - 50/3600."""
    assert availability([(100.0, 160.0)], 0.0, 3600.0, 10.0) == pytest.approx(1 - 50 / 3600)


def test_a_gap_within_the_survival_time_costs_nothing_and_is_no_violation() -> None:
    """An 8 ms gap for a 10 ms survival time: still 100 %, no violation."""
    assert availability([(5.0, 5.008)], 0.0, 60.0, 0.010) == 1.0
    assert violations([(5.0, 5.008)], 0.010, since=0.0) == 0
    assert violations([(5.0, 5.012)], 0.010, since=0.0) == 1


def test_overlapping_gaps_count_once_and_the_window_clips() -> None:
    """(0,100) and (50,150) are 150 s together; a gap from before the window counts only
    its part inside: (-100, 50) in [0, 1000) is 50 s, 95 % available."""
    assert covered([(0.0, 100.0), (50.0, 150.0)], 0.0, 1000.0) == 150.0
    assert availability([(-100.0, 50.0)], 0.0, 1000.0, 0.0) == pytest.approx(0.95)
    assert unavailable([(0.0, 5.0), (10.0, 11.0)], 2.0) == [(2.0, 5.0)]


def test_no_time_observed_has_no_availability() -> None:
    assert availability([], 10.0, 10.0, 0.0) is None


def test_words_for_durations_and_targets() -> None:
    assert (
        duration(252) == "4 min 12 s" and duration(40) == "40 s" and duration(3900) == "1 h 05 min"
    )
    assert percent_text(0.9999) == "99.99%" and percent_text(0.999999) == "99.9999%"


# -- link health ----------------------------------------------------------------------

CELL = "plant.cell-2"


def configured(entity: str = "m3", **attributes: object) -> EntityConfigured:
    return EntityConfigured(
        tenant="plant",
        time=0.0,
        entity=entity,
        kind="machine",
        name=entity.upper(),
        attributes={"cell": CELL, **attributes},
    )


def link(t: float, metric: str, value: float, entity: str = "m3") -> Reading:
    return Reading(
        tenant="plant",
        device=f"{entity}.modem",
        entity=entity,
        seq=int(t * 10) + 1,
        time=float(t),
        metric=metric,
        value=value,
    )


def events_of(outputs: list, what: type) -> list:
    return [o for o in outputs if isinstance(o, what)]


def test_silence_is_a_lost_link_and_costs_availability() -> None:
    """Reports every 10 s to t=100, then none until t=400: down from t=100 (the last
    heard), detected after 25 s; back at 400. Motion control (10 ms survival) over the
    400 s seen: 1 - 299.99/400 available, one survival-time violation."""
    op = LinkHealth(publish_seconds=1e9)
    state, _ = op.process(op.initial_state("m3"), configured())
    for t in range(0, 101, 10):
        state, _ = op.process(state, link(t, "latency_ms", 9.0))
    state, out = op.on_time(state, 124.0)
    assert events_of(out, Derived) == []
    state, out = op.on_time(state, 125.0)
    [down] = events_of(out, Derived)
    assert (down.data["event"], down.data["since"], down.data["cell"]) == ("down", 100.0, CELL)
    state, out = op.process(state, link(400, "latency_ms", 9.0))
    [up] = events_of(out, Derived)
    assert (up.data["event"], up.data["seconds"]) == ("up", 300.0)
    found, count, lost = op.figures(state, 400.0)
    assert found == pytest.approx(1 - 299.99 / 400) and count == 1
    assert lost == pytest.approx(299.99)


def test_a_report_beyond_the_class_bound_degrades_until_good_for_a_while() -> None:
    """Latency 80 ms breaks motion control's 20 ms bound: degraded from that report; good
    reports again from t=30 end the gap there, once good for ``recover_seconds``."""
    op = LinkHealth(recover_seconds=60.0)
    state, _ = op.process(op.initial_state("m3"), configured())
    state, _ = op.process(state, link(0, "latency_ms", 9.0))
    state, out = op.process(state, link(10, "latency_ms", 80.0))
    [bad] = events_of(out, Derived)
    assert bad.data["event"] == "degraded" and bad.data["detail"] == "latency 80 ms"
    state, _ = op.process(state, link(20, "latency_ms", 90.0))
    emitted = []
    for t in range(30, 100, 10):
        state, out = op.process(state, link(t, "latency_ms", 9.0))
        emitted += events_of(out, Derived)
    assert [(e.data["event"], e.time) for e in emitted] == [("ok", 90.0)]
    assert state.gaps == [(10.0, 30.0, "degraded")]


def test_a_device_reported_gap_beyond_survival_time_is_a_violation() -> None:
    """``max_gap_ms`` 25 for a 10 ms survival time: one violation, 15 ms unavailable."""
    op = LinkHealth()
    state, _ = op.process(op.initial_state("m3"), configured())
    state, _ = op.process(state, link(0, "latency_ms", 9.0))
    state, _ = op.process(state, link(10, "max_gap_ms", 25.0))
    _, count, lost = op.figures(state, 10.0)
    assert count == 1 and lost == pytest.approx(0.015)


def test_a_link_names_its_class_from_the_attribute_or_the_kind() -> None:
    op = LinkHealth()
    state, _ = op.process(op.initial_state("s1"), configured("s1", link_class="sensor"))
    assert state.link_class == "sensor"
    state, out = op.process(op.initial_state("m3"), configured())
    assert (
        state.link_class == "motion" and DEFAULT_SERVICE_LEVELS["motion"].availability == 0.999999
    )
    assert events_of(out, Derived)[0].data["event"] == "seen"


def test_a_cell_sinr_dip_is_announced_once() -> None:
    op = LinkHealth()
    cell = EntityConfigured(tenant="plant", time=0.0, entity=CELL, kind="cell", name="cell 2")
    state, _ = op.process(op.initial_state(CELL), cell)
    emitted = []
    for t, sinr in ((0, 18.0), (10, 2.0), (20, 3.5), (30, 1.0), (40, 19.0)):
        state, out = op.process(state, link(t, "sinr_db", sinr, entity=CELL))
        emitted += [e.data["event"] for e in events_of(out, Derived)]
    assert emitted == ["cell", "dip"]  # its first report announces it, then one dip
    rows = {r.metric: r for r in events_of(out, LatestValue)}
    assert op.next_wakeup(state) is None or rows  # a cell never goes "down" by silence


# -- attribution ----------------------------------------------------------------------


def derived(t: float, entity: str, kind: str, **data: object) -> Derived:
    return Derived(tenant="plant", time=t, entity=entity, kind=kind, data={"cell": CELL, **data})


def net(t: float, entity: str, what: str, since: float | None = None) -> Derived:
    name = "cell 2" if entity == CELL else entity.upper()
    return derived(
        t, entity, "link_event", event=what, since=t if since is None else since, name=name
    )


def machine(t: float, entity: str, state: str, reason: str | None = None) -> Derived:
    return derived(t, entity, "machine_oee", state=state, reason=reason, name=entity.upper())


def run(events: list[Derived]) -> list:
    op = StopAttribution()
    state, outputs = op.initial_state(CELL), []
    for event in events:
        state, out = op.process(state, event)
        outputs += out
    return outputs


H14 = 14 * 3600.0


def test_a_stop_after_the_cell_sinr_fell_and_the_link_was_lost_is_the_network() -> None:
    """cell 2 SINR fell at 14:01; M3 and M7 lost their link at 14:02 and stopped (no
    reason) until 14:06: both attributed, one incident, explained in those words."""
    outputs = run(
        [
            net(H14, CELL, "cell"),
            net(H14 + 60, CELL, "dip"),
            net(H14 + 150, "m3", "down", since=H14 + 125),
            net(H14 + 151, "m7", "down", since=H14 + 126),
            machine(H14 + 128, "m3", "down"),
            machine(H14 + 129, "m7", "down"),
            net(H14 + 300, "m3", "up"),
            net(H14 + 301, "m7", "up"),
            machine(H14 + 350, "m3", "running"),
            machine(H14 + 370, "m7", "running"),
        ]
    )
    findings = events_of(outputs, Output)
    assert [f.entity for f in findings] == ["m3", "m7"] and all(f.durable for f in findings)
    assert findings[-1].message == (
        "cell 2 SINR fell at 14:01; machines M3 and M7 lost their link at 14:02 "
        "and stopped until 14:06."
    )
    signals = events_of(outputs, ConditionSignal)
    assert [s.change for s in signals] == ["open", "update"]
    assert {s.key for s in signals} == {f"network_stop:{CELL}"}


def test_a_machine_stop_while_the_radio_is_fine_is_not_blamed() -> None:
    """No network event near: a stop with no reason is not put on the network."""
    outputs = run(
        [
            net(H14 - 3600, "m3", "degraded"),
            net(H14 - 3500, "m3", "ok"),
            machine(H14, "m3", "down"),
            machine(H14 + 600, "m3", "running"),
        ]
    )
    assert outputs == []


def test_a_stop_in_a_radio_dip_with_a_machine_fault_is_not_blamed() -> None:
    """The SINR dipped and the link was lost just before, but the PLC gave the reason
    ``breakdown``: the machine's own signal explains the stop."""
    outputs = run(
        [
            net(H14, CELL, "dip"),
            net(H14 + 30, "m3", "down", since=H14 + 5),
            machine(H14 + 10, "m3", "down"),
            machine(H14 + 12, "m3", "down", reason="breakdown"),
            net(H14 + 200, "m3", "up"),
            machine(H14 + 3000, "m3", "running"),
        ]
    )
    assert outputs == []


def test_a_safety_stop_says_nothing_and_a_long_gone_dip_is_no_evidence() -> None:
    """``safety_stop`` does not explain a stop; a dip that began an hour earlier and a
    neighbour's loss long ago are not evidence, so it is not blamed either."""
    outputs = run(
        [
            net(H14 - 3600, CELL, "dip"),
            net(H14 - 3500, "m7", "down"),
            net(H14 - 3400, "m7", "up"),
            machine(H14, "m3", "down", reason="safety_stop"),
            machine(H14 + 300, "m3", "running"),
        ]
    )
    assert outputs == []
    assert StopAttribution().explained("safety_stop") is False


def test_an_incident_closes_after_a_quiet_spell() -> None:
    op = StopAttribution(quiet_seconds=600.0)
    state = op.initial_state(CELL)
    for event in (
        net(H14, "m3", "down"),
        machine(H14 + 3, "m3", "down"),
        net(H14 + 100, "m3", "up"),
        machine(H14 + 200, "m3", "running"),
    ):
        state, _ = op.process(state, event)
    assert op.next_wakeup(state) == H14 + 800
    state, out = op.on_time(state, H14 + 800)
    [closed] = out
    assert (
        closed.change == "close"
        and "no machine stopped for the network since 14:03" in closed.message
    )
    assert op.next_wakeup(state) is None
