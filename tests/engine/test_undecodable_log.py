"""A log record the runtime cannot decode (issue 7, item 3): set aside, never a wedge.

Rows are written straight into ``event_log`` with SQL while the platform is down, as
a bug, an older version or a hand at the database might leave them: one whose reading
has ``value`` null (what a MessagePack NaN used to become), one that is not JSON at
all, and a good one between them. On restart the operators catch up past both bad
rows, each becomes a dead letter naming its offset and why, and later events (in
the log and live) are processed; a second restart does not set them aside again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from tests.conftest import batch_json, reading, small_catalog
from vigil.config import Settings
from vigil.events import encode_json
from vigil.platform import Platform
from vigil.store.event_log import DeadLetterUndecodable, Undecodable
from vigil.store.schema import event_log
from vigil.web.app import create_app

DEVICE = "north.home-1.temperature"
ENTITY = "north.home-1"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """No clock ticks: the last row of the log is the last one the test wrote."""
    engine = {"checkpoint_interval_seconds": 0.2, "tick_seconds": 0}
    if request.param == "sqlite":
        yield Settings(store={"url": f"sqlite:///{tmp_path / 'v.db'}"}, engine=engine)
        return
    yield Settings(store={"url": request.getfixturevalue("postgres_url")}, engine=engine)


def _ingest(platform: Platform, *events: object) -> int:
    body = batch_json(*events)  # type: ignore[arg-type]
    return asyncio.run(platform.ingestor.ingest(body, tenant="north", transport="test")).accepted


def _latest(platform: Platform) -> list[object]:
    return [value.value for value in platform.projections.latest("north", ENTITY)]


def _write_rows(platform: Platform, bodies: list[tuple[int, str]]) -> int:
    """Rows after the end of the log with these ``(seq, body)``; the first offset."""
    with platform.engine.begin() as connection:
        template = connection.execute(
            select(event_log).where(event_log.c.type == "reading").limit(1)
        ).one()
        first = connection.execute(select(func.max(event_log.c.offset))).scalar_one() + 1
        now = time.time()
        connection.execute(
            insert(event_log),
            [
                {
                    **template._asdict(),
                    "offset": first + i,
                    "seq": seq,
                    "time": now - 5,
                    "received": now,
                    "value": None,
                    "body": body,
                }
                for i, (seq, body) in enumerate(bodies)
            ],
        )
    return first


def test_undecodable_log_records_are_dead_lettered_and_skipped(store_settings: Settings) -> None:
    """Two rows no operator can read, around a good one: after a restart the runtime is
    healthy, has processed the whole log, shows the good row's value and then a live
    one, counts and dead-letters each bad row once, with its offset and the reason."""
    now = time.time()
    first = Platform(store_settings)
    try:
        first.apply_catalog(small_catalog())
        first.start()
        assert _ingest(first, reading(seq=1, value=20.0, time_=now - 30)) == 1
        assert first.wait_until_processed()
    finally:
        first.stop()
    null_value = encode_json(reading(seq=2, value=1.0, time_=now - 20)).replace(
        b'"value":1.0', b'"value":null'
    )
    good = encode_json(reading(seq=3, value=23.0, time_=now - 10))
    bad = _write_rows(first, [(2, null_value.decode()), (3, good.decode()), (4, "{not json")])
    second = Platform(store_settings)
    try:
        second.start()
        assert second.wait_until_processed()
        assert second.runtime.failed is None
        assert second.log.next_offset - 1 == bad + 2  # the bad row is the last one
        assert second.runtime.processed_offset == bad + 2
        assert second.runtime.undecodable == 2
        assert _latest(second) == [23.0]
        assert _ingest(second, reading(seq=5, value=25.0, time_=now - 1)) == 1
        assert second.wait_until_processed()
        assert _latest(second) == [25.0]
        letters = sorted(second.dead_letters.recent("north"), key=lambda d: d.source or "")
        assert [(d.reason, d.transport, d.source) for d in letters] == [
            ("undecodable_log_record", "log", f"event_log:{bad}"),
            ("undecodable_log_record", "log", f"event_log:{bad + 2}"),
        ]
        assert letters[0].detail.startswith(f"log record {bad} cannot be decoded: ")
        assert "null" in letters[0].detail
        assert letters[1].raw == "{not json"
        with TestClient(create_app(second, manage_platform=False)) as client:
            health = client.get("/healthz").json()
            assert (health["status"], health["undecodable_log_records"]) == ("ok", 2)
            admin = second.tokens.create("north", "ops", "administrator", now=second.clock())
            metrics = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
            assert "\nvigil_log_records_undecodable_total 2.0\n" in metrics.text
    finally:
        second.stop()
    third = Platform(store_settings)
    try:
        third.start()
        assert third.wait_until_processed()
        assert third.runtime.undecodable == 0  # checkpointed past them
        assert third.dead_letters.counts("north") == {"undecodable_log_record": 2}
    finally:
        third.stop()


def test_a_record_met_again_is_dead_lettered_once(platform: Platform) -> None:
    """A restart before the checkpoint that passed a bad row meets it again: its dead
    letter is written once (keyed by offset), and its NUL characters are escaped."""
    record = Undecodable(7, time.time(), "north", b"\x00{", "bad \x00 body")
    for _ in range(2):
        platform.writer.submit(DeadLetterUndecodable([record])).result(10)
    [letter] = platform.dead_letters.recent("north")
    assert (letter.source, letter.reason) == ("event_log:7", "undecodable_log_record")
    assert "\x00" not in letter.detail and "\\x00" in letter.detail
