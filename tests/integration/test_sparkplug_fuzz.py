"""Bad Sparkplug input through the real Mosquitto: every message ends acknowledged, each
bad one a dead letter with its reason, the host never stops, and good data still lands."""

from __future__ import annotations

import random

import pytest

from tests.integration.sparkplug_edge import metric, now_ms, sp
from tests.integration.test_sparkplug import NODE, Rig, born, rig  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


async def test_bad_input_is_dead_lettered_and_acknowledged(rig: Rig) -> None:  # noqa: F811
    """Malformed protobuf, topics outside the namespace's shapes, DATA before any BIRTH,
    unknown aliases: each a dead letter with a reason, each QoS 1 message acknowledged."""
    edge = rig.edge()
    rng = random.Random(10)
    group = rig.group
    try:
        ts = now_ms()
        # DATA before BIRTH (of the node, then of a device).
        edge.send("NDATA", sp.NData(timestamp=ts, seq=1, metrics=()).encode(), qos=1)
        edge.send("DDATA", sp.DData(timestamp=ts, seq=2, metrics=()).encode(), "plc", qos=1)
        bad_topics = [
            f"spBv1.0/{group}/DDATA/{NODE}",  # a device verb without a device
            f"spBv1.0/{group}/NDATA/{NODE}/plc",  # a node verb with one
            f"spBv1.0/{group}/FOO/{NODE}",
            f"spBv1.0/{group}/DDATA/{NODE}/plc/extra",
            f"spBv1.0/{group}/NDATA//",
        ]
        for topic in bad_topics:
            edge.client.publish(topic, b"\x08\x01", qos=1).wait_for_publish(5)
        born(edge)
        garbage = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40))) for _ in range(20)]
        garbage += [b"\xff\xff\xff", b"\x12\x05\x0a\x03ab", b"not protobuf at all"]
        for body in garbage:
            edge.send("DDATA", body, "plc", qos=1)
        edge.ddata("plc", metric(None, 99, 1.0, sp.DataType.DOUBLE, now_ms()), qos=1)
        edge.ddata("plc", metric(None, 2, 42.0, sp.DataType.DOUBLE, now_ms()), qos=1)
        sent = 2 + len(bad_topics) + len(garbage) + 2
        await rig.until(
            lambda: any(r.value == 42.0 for r in rig.readings(".plc")), "the good reading", 20
        )
        await rig.until(lambda: rig.host.acknowledged >= sent + 4, "every message handled", 20)
        dead = rig.dead()
        assert dead.get("no_birth") == 2
        assert dead.get("wrong_topic") == len(bad_topics)
        assert dead.get("unknown_alias") == 1
        # Random bytes may happen to parse as protobuf (an empty or unknown-field payload);
        # those are refused for their seq instead. None is lost either way.
        assert dead.get("malformed", 0) + dead.get("invalid_event", 0) >= len(garbage) - 5
        assert rig.host.messages == rig.host.acknowledged
    finally:
        edge.close()
