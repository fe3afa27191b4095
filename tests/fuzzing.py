"""Bad input for the fuzz tests (issue 7), and a real Vigil server to send it to.

A Hypothesis strategy draws a *plan*: what a broken or hostile sender posts
(malformed JSON or MessagePack, nesting a thousand deep, NaN and infinities, NUL
characters, bodies over the limit, another tenant's events, unknown devices,
re-sends, clocks far off, fields of the wrong type), mixed with good events. The
test turns a plan into bytes with live sequence numbers and the current time
(``Sender.case``), together with the outcome Vigil owes it: how many events must
be accepted, how many dead letters must be written, and which HTTP statuses may
answer it. Every mutation here is one that must be refused, so the expected
outcome is exact.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
import uvicorn
from hypothesis import HealthCheck, Phase, example
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from vigil.config import Settings
from vigil.platform import Platform

Format = Literal["json", "msgpack"]

MAX_BODY = 16 * 1024
"""``ingest.max_body_bytes`` of the fuzzed server: small, so that huge bodies stay cheap."""
MAX_BATCH = 20
"""``ingest.max_batch_events`` of the fuzzed server."""


def fuzz_settings(tmp_path: Path) -> Settings:
    """A platform on SQLite in ``tmp_path`` with the limits above."""
    return Settings(
        store={"url": f"sqlite:///{tmp_path / 'fuzz.db'}", "sqlite_synchronous": "NORMAL"},
        ingest={"max_body_bytes": MAX_BODY, "max_batch_events": MAX_BATCH},
        engine={"checkpoint_interval_seconds": 0.5},
    )


_DELETE = object()
"""A field override meaning: leave the field out."""


class Offset(float):
    """A field override meaning: the current time plus this many seconds."""


class Deep(int):
    """A field override meaning: a list nested this deep, written as raw bytes."""


@dataclass(frozen=True)
class Mutation:
    """One change to a good event that Vigil must refuse, naming why."""

    what: str
    fields: dict[str, object]


@dataclass(frozen=True)
class BatchPlan:
    """Events in one payload: ``"good"``, ``"resend"`` (of an accepted one) or a mutation."""

    format: Format
    items: tuple[str | Mutation, ...]
    envelope: bool = True


@dataclass(frozen=True)
class WholePlan:
    """A payload refused as a whole (or, for shapes that parse, as its one event)."""

    what: str
    format: Format
    data: Any = None


Plan = BatchPlan | WholePlan


@dataclass(frozen=True)
class Case:
    """Bytes to send and the outcome Vigil owes them."""

    what: str
    body: bytes
    format: Format
    accepted: int
    dead_letters: int
    statuses: frozenset[int]
    accepted_events: tuple[dict[str, object], ...] = ()
    or_empty: bool = False
    """Also right: 200, as the empty batch it may be (a deep unknown field that the
    decoder skipped: how deep it can go depends on the thread's stack)."""

    @property
    def content_type(self) -> str:
        return "application/msgpack" if self.format == "msgpack" else "application/json"


# -- strategies ---------------------------------------------------------------------

_text = st.text(max_size=20)
_nul_text = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=8), st.text(max_size=8))


def _mutations(format: Format) -> st.SearchStrategy[Mutation]:
    """Changes to one event, each one a reason to refuse that event alone."""

    def m(what: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Mutation]:
        return st.fixed_dictionaries(fields).map(lambda f: Mutation(what, f))

    far_future = st.floats(400, 3e9).map(Offset)
    far_past = st.floats(36 * 86400, 3e9).map(lambda s: Offset(-s))
    non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
    if format == "msgpack":
        nonfinite_value = m("non-finite value", value=non_finite)
        nonfinite_time = m("non-finite time", time=non_finite)
    else:  # JSON cannot spell NaN inside a valid document; 1e999 is infinity
        huge = st.sampled_from([b"1e999", b"-1e999", b"1e400"]).map(msgspec.Raw)
        nonfinite_value = m("non-finite value", value=huge)
        nonfinite_time = m("non-finite time", time=huge)
    registered = st.sampled_from(["north.home-1.temperature", "north.home-2.temperature"])
    return st.one_of(
        m("NUL in metric", metric=_nul_text),
        m("NUL in unit", unit=st.sampled_from(["C\x00", "\x00", "k\x00Wh"])),
        m("NUL in text value", value=_nul_text),
        m("NUL in unknown device", device=_nul_text),
        m("NUL in entity", entity=_nul_text),
        m("NUL in tenant", tenant=_nul_text),
        nonfinite_value,
        nonfinite_time,
        m("wrong tenant", tenant=st.sampled_from(["south", "plant"]) | _text.filter(_not_north)),
        m("unknown device", device=st.text(min_size=1, max_size=100).map(lambda s: f"fz-{s}")),
        m("device of another entity", device=registered, entity=st.just("north.home-9")),
        m("clock far ahead", time=far_future | st.just("2999-01-01T00:00:00Z")),
        m("clock far behind", time=far_past | st.sampled_from(["1971-01-01T00:00:00+00:00"])),
        m(
            "value of a wrong type",
            value=st.none() | st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3),
        ),
        m("value nested deep", value=st.integers(900, 3000).map(Deep)),
        m("seq of a wrong type", seq=st.sampled_from([-1, 2**63, "7", 1.5, True, None])),
        m(
            "time of a wrong type",
            time=st.sampled_from(["yesterday", "", None, True, [], "2026-01-01T00:00:00"]),
        ),
        m("metric of a wrong type", metric=st.sampled_from(["", "m" * 65, 5, None])),
        m("unknown type", type=st.sampled_from(["nope", "", 5, None, "Reading", "tick"])),
        st.sampled_from(["tenant", "device", "entity", "seq", "time", "type"]).map(
            lambda key: Mutation(f"no {key}", {key: _DELETE})
        ),
    )


def _not_north(text: str) -> bool:
    return text != "north"


def _batch_plans(format: Format) -> st.SearchStrategy[BatchPlan]:
    mutation = _mutations(format)
    item = st.sampled_from(["good", "good", "resend"]) | mutation
    several = st.lists(item, min_size=1, max_size=6).map(tuple)

    def plan(items: tuple[str | Mutation, ...], bare: bool) -> BatchPlan:
        # A deep value may be refused with its whole payload (the batch decoder runs out
        # of stack first): alone in its payload, either way it is one dead letter.
        deep = [i for i in items if isinstance(i, Mutation) and i.what == "value nested deep"]
        if deep:
            items = (deep[0],)
        return BatchPlan(format, items, envelope=not (bare and len(items) == 1))

    return st.builds(plan, several, st.booleans())


def _shapes() -> st.SearchStrategy[Any]:
    """Values that are valid JSON / MessagePack but not a batch (no ``events`` key)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False)
        | st.text(max_size=10)
    )
    keys = st.text(max_size=8).filter(lambda k: k != "events")
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )


def _whole_plans(format: Format) -> st.SearchStrategy[WholePlan]:
    def w(what: str, data: st.SearchStrategy[Any]) -> st.SearchStrategy[WholePlan]:
        return data.map(lambda d: WholePlan(what, format, d))

    plans = [
        w("garbage bytes", st.binary(max_size=200)),
        w("not a batch", _shapes()),
        w(
            "nested deep",
            st.tuples(st.sampled_from(["events", "bare", "unknown field"]), st.integers(900, 6000)),
        ),
        w("body over the limit", st.integers(MAX_BODY + 1, 3 * MAX_BODY)),
        w("unsupported version", st.integers(2, 2**31) | st.sampled_from([0, -1, "1", None])),
        w("batch over the limit", st.integers(MAX_BATCH + 1, 2 * MAX_BATCH)),
        w("truncated", st.floats(0, 0.999)),
    ]
    if format == "json":
        plans.append(w("NaN literal", st.sampled_from([b"NaN", b"Infinity", b"-Infinity"])))
    return st.one_of(plans)


EXPLICIT: tuple[Plan, ...] = (
    # The bodies the issue measured: 250 copies of the first stopped MQTT ingest.
    WholePlan("garbage bytes", "json", b'{"v":1,"events":[{"type":"nope"} x]}'),
    WholePlan("nested deep", "json", ("events", 1000)),
    WholePlan("nested deep", "json", ("bare", 1000)),
    WholePlan("nested deep", "json", ("unknown field", 1000)),
    WholePlan("nested deep", "msgpack", ("events", 1000)),
    BatchPlan("msgpack", ("good", Mutation("non-finite value", {"value": math.nan}), "good")),
    BatchPlan("msgpack", (Mutation("non-finite time", {"time": math.nan}),)),
    BatchPlan("json", ("good", Mutation("NUL in metric", {"metric": "temp\x00"}), "good")),
    BatchPlan("json", (Mutation("NUL in unknown device", {"device": "gh\x00st"}),)),
    WholePlan("body over the limit", "json", 4 * MAX_BODY),
)
"""Run first, before the drawn ones (Hypothesis's explicit examples)."""


def with_explicit_plans(test: Any) -> Any:
    """``test`` (a Hypothesis test of ``plan``) with ``EXPLICIT`` as explicit examples."""
    for plan in reversed(EXPLICIT):
        test = example(plan=plan)(test)
    return test


def plans() -> st.SearchStrategy[Plan]:
    """Any bad payload, in JSON or MessagePack; batches (where good and bad events mix)
    drawn twice as often as the payloads refused whole."""
    return st.sampled_from(["json", "msgpack"]).flatmap(
        lambda f: st.one_of(_batch_plans(f), _batch_plans(f), _whole_plans(f))
    )


# -- from a plan to bytes -----------------------------------------------------------


def _encode(value: object, format: Format) -> bytes:
    return msgspec.msgpack.encode(value) if format == "msgpack" else msgspec.json.encode(value)


def _deep(depth: int, format: Format) -> msgspec.Raw:
    if format == "msgpack":
        return msgspec.Raw(b"\x91" * depth + b"\x90")
    return msgspec.Raw(b"[" * depth + b"]" * depth)


@dataclass
class Sender:
    """Turns plans into cases for a set of devices, with live sequences and times."""

    devices: Sequence[str]
    tenant: str = "north"
    seq: dict[str, int] = field(default_factory=dict)
    accepted: list[dict[str, object]] = field(default_factory=list)
    """Events known accepted: what a re-send repeats."""
    sent: int = 0

    def good(self) -> dict[str, object]:
        device = self.devices[self.sent % len(self.devices)]
        self.sent += 1
        self.seq[device] = self.seq.get(device, 0) + 1
        return {
            "type": "reading",
            "tenant": self.tenant,
            "device": device,
            "entity": ".".join(device.split(".")[:2]),
            "seq": self.seq[device],
            "time": time.time() - 30,
            "metric": "temperature",
            "value": 20.0 + self.sent % 7,
        }

    def _mutated(self, mutation: Mutation, format: Format) -> dict[str, object]:
        event = self.good()
        for key, value in mutation.fields.items():
            if value is _DELETE:
                event.pop(key, None)
            elif isinstance(value, Offset):
                event["time"] = time.time() + float(value)
            elif isinstance(value, Deep):
                event[key] = _deep(int(value), format)
            else:
                event[key] = value
        return event

    def case(self, plan: Plan) -> Case:
        if isinstance(plan, BatchPlan):
            return self._batch(plan)
        return self._whole(plan)

    def _batch(self, plan: BatchPlan) -> Case:
        events: list[dict[str, object]] = []
        good: list[dict[str, object]] = []
        resends = mutated = 0
        names = []
        for item in plan.items:
            if item == "resend" and self.accepted:
                events.append(self.accepted[(self.sent * 7919) % len(self.accepted)])
                resends += 1
                names.append("resend")
            elif isinstance(item, Mutation):
                events.append(self._mutated(item, plan.format))
                mutated += 1
                names.append(item.what)
            else:
                event = self.good()
                events.append(event)
                good.append(event)
                names.append("good")
        payload: object = events[0] if not plan.envelope else {"v": 1, "events": events}
        body = _encode(payload, plan.format)
        only_resends = resends > 0 and mutated == 0
        status = 200 if good or only_resends else 422
        if any(name == "value nested deep" for name in names):
            statuses = frozenset({400, 422})  # refused with its payload or alone
        else:
            statuses = frozenset({status})
        return Case(
            what=f"{plan.format} {'batch' if plan.envelope else 'bare'} [{', '.join(names)}]",
            body=body,
            format=plan.format,
            accepted=len(good),
            dead_letters=resends + mutated,
            statuses=statuses,
            accepted_events=tuple(good),
        )

    def _whole(self, plan: WholePlan) -> Case:
        format, data = plan.format, plan.data
        either = frozenset({400, 422})  # refused whole, or as the one event it might be
        statuses = frozenset({400})
        or_empty = False
        if plan.what == "garbage bytes":
            body, statuses = data, either
        elif plan.what == "not a batch":
            body, statuses = _encode(data, format), either
        elif plan.what == "nested deep":
            shape, depth = data
            deep = _deep(depth, format)
            if shape == "events":
                body, statuses = _encode({"v": 1, "events": [deep]}, format), either
            elif shape == "bare":
                body, statuses = _encode({"type": "reading", "x": deep}, format), either
            else:  # malformed when skipping it runs out of stack, else an empty batch
                body = _encode({"v": 1, "x": deep, "events": []}, format)
                or_empty = True
        elif plan.what == "body over the limit":
            padding = "x" * data
            body, statuses = (
                _encode({"v": 1, "events": [self.good()], "pad": padding}, format),
                (frozenset({413})),
            )
        elif plan.what == "unsupported version":
            body = _encode({"v": data, "events": [self.good()]}, format)
        elif plan.what == "batch over the limit":
            body = _encode({"v": 1, "events": [self.good() for _ in range(data)]}, format)
        elif plan.what == "truncated":
            whole = _encode({"v": 1, "events": [self.good(), self.good()]}, format)
            body = whole[: int(len(whole) * data)]
        elif plan.what == "NaN literal":
            body = _encode({"v": 1, "events": [self.good()]}, format).replace(
                b'"value":', b'"value":' + data + b',"was":', 1
            )
        else:  # pragma: no cover - a plan this module does not know
            raise AssertionError(plan.what)
        return Case(
            what=f"{format} {plan.what}",
            body=body,
            format=format,
            accepted=0,
            dead_letters=1,
            statuses=statuses | {200} if or_empty else statuses,
            or_empty=or_empty,
        )


# -- a real server ------------------------------------------------------------------


@contextlib.contextmanager
def serve(platform: Platform, services: Sequence[Any] = ()) -> Iterator[str]:
    """Vigil as ``vigil serve`` runs it: uvicorn (httptools, uvloop where installed) on
    a free port, the app starting and stopping ``platform``; yields the base URL."""
    from vigil.web.app import create_app

    app = create_app(platform, services=services)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A longer idle keep-alive than uvicorn's 5 s, so that only a connection the server
    # dropped (not one a slow shared machine left idle) shows as a second connection.
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=60)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fuzz-uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def seeded(examples: int) -> hypothesis_settings:
    """The fuzz tests' Hypothesis settings: the explicit examples, then ``examples``
    drawn ones, the same every run (no database, no deadline: a real server answers)."""
    return hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
