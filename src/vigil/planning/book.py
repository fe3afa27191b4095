"""A council's plans kept day by day in a document store: what every page shows.

The first time a day is asked for, its plan is made (by a :class:`FirstPlan`,
today the simulated council day) and saved as version 1. Each change a coordinator
makes (lock, unlock, move, re-optimise, urgent visit) loads the newest version,
applies the change with :mod:`vigil.planning.edits`, and saves the next version with
what changed and why, audited in the same transaction. A change made on a page
showing an older version is refused rather than silently overwriting someone else's.

The store is any :class:`DocumentStore` (``vigil.store.DocumentRepository`` in the
platform): planning knows no SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from vigil.planning.codec import plan_from_json, plan_to_json, problem_from_json, problem_to_json
from vigil.planning.edits import (
    Lock,
    Note,
    Refused,
    lock,
    move,
    reoptimise,
    unlock,
    urgent_visit,
)
from vigil.planning.export import clock
from vigil.planning.model import Plan, Problem

KIND = "carer_plan"
DAY = 24 * 3600
_SOLVING = threading.Lock()
"""One search at a time in a process: a solve takes a core for seconds."""


class DocumentStore(Protocol):
    """Versioned documents (``vigil.store.DocumentRepository``)."""

    def latest(self, tenant: str, kind: str, key: str) -> Any: ...

    def history(self, tenant: str, kind: str, key: str, *, limit: int = 50) -> list[Any]: ...

    def save(
        self,
        tenant: str,
        kind: str,
        key: str,
        version: int,
        body: bytes,
        *,
        time: float,
        actor: str,
        action: str,
        summary: str,
        audit: bool = True,
    ) -> bool: ...


class FirstPlan(Protocol):
    """Makes a day's first plan: an object with ``problem``, ``plan`` and ``origin``."""

    seconds: float

    def day(self, tenant: str, day: dt.date) -> Any: ...


@dataclass(frozen=True)
class DayRecord:
    """A day's plan as stored: the problem as it now stands, the plan, the locks, the
    carers out, and what the change that made this version did (``notes``)."""

    problem: Problem
    plan: Plan
    origin: str
    version: int = 0
    locks: tuple[Lock, ...] = ()
    out: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    action: str = "plan"
    summary: str = ""


def encode(record: DayRecord) -> bytes:
    """The record as JSON bytes (the version is the store's, not the body's)."""
    body = {
        "problem": problem_to_json(record.problem),
        "plan": plan_to_json(record.plan),
        "origin": record.origin,
        "locks": [item.__dict__ for item in record.locks],
        "out": list(record.out),
        "notes": [note.__dict__ for note in record.notes],
        "action": record.action,
        "summary": record.summary,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode(body: bytes, version: int) -> DayRecord:
    """The record :func:`encode` wrote, as version ``version``."""
    data = json.loads(body)
    return DayRecord(
        problem=problem_from_json(data["problem"]),
        plan=plan_from_json(data["plan"]),
        origin=data["origin"],
        version=version,
        locks=tuple(Lock(**item) for item in data["locks"]),
        out=tuple(data["out"]),
        notes=tuple(Note(**note) for note in data["notes"]),
        action=data["action"],
        summary=data["summary"],
    )


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()


def seconds_into(day: dt.date, now: float) -> int:
    """How far into ``day`` (UTC, as the plan's times are) ``now`` is; 0 before it."""
    return max(0, int(now - _midnight(day)))


class PlanBook:
    """Reads and changes a tenant's stored day plans."""

    def __init__(
        self,
        store: DocumentStore,
        first: FirstPlan,
        seconds: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.first = first
        self.seconds = seconds
        self.clock = clock

    def day(self, tenant: str, day: dt.date) -> DayRecord:
        """The newest stored plan of the day, made and saved first if there is none."""
        stored = self.store.latest(tenant, KIND, day.isoformat())
        if stored is not None:
            return decode(stored.body, stored.version)
        with _SOLVING:
            stored = self.store.latest(tenant, KIND, day.isoformat())
            if stored is not None:
                return decode(stored.body, stored.version)
            made = self.first.day(tenant, day)
            record = DayRecord(made.problem, made.plan, made.origin, summary="first plan")
            self.store.save(
                tenant,
                KIND,
                day.isoformat(),
                1,
                encode(record),
                time=self.clock(),
                actor="vigil",
                action="plan",
                summary=record.summary,
                audit=False,
            )
        return self.day(tenant, day)

    def history(self, tenant: str, day: dt.date, limit: int = 20) -> list[Any]:
        """The versions of the day's plan, newest first (who, when, what)."""
        return self.store.history(tenant, KIND, day.isoformat(), limit=limit)

    def lock(self, tenant: str, day: dt.date, visit: str, **who: Any) -> DayRecord:
        """Keep ``visit`` with its carer when re-optimising."""

        def apply(record: DayRecord, at: int) -> DayRecord:
            locks, notes = lock(record.problem, record.plan, record.locks, visit)
            carer = record.plan.assignment()[visit][0]
            return replace(
                record, locks=locks, notes=tuple(notes), summary=f"locked {visit} to {carer}"
            )

        return self._change(tenant, day, "plan.lock", apply, **who)

    def unlock(self, tenant: str, day: dt.date, visit: str, **who: Any) -> DayRecord:
        """Let re-optimising move ``visit`` again."""

        def apply(record: DayRecord, at: int) -> DayRecord:
            locks, notes = unlock(record.problem, record.plan, record.locks, visit)
            return replace(record, locks=locks, notes=tuple(notes), summary=f"unlocked {visit}")

        return self._change(tenant, day, "plan.unlock", apply, **who)

    def move(
        self,
        tenant: str,
        day: dt.date,
        visit: str,
        carer: str,
        start: int | None,
        **who: Any,
    ) -> DayRecord:
        """Put ``visit`` on ``carer``'s run (at ``start`` if given) and lock it there."""

        def apply(record: DayRecord, at: int) -> DayRecord:
            plan, locks, notes = move(
                record.problem, record.plan, record.locks, visit, carer, start, at
            )
            when = f" at {clock(start)}" if start is not None else ""
            return replace(
                record,
                plan=plan,
                locks=locks,
                notes=tuple(notes),
                summary=f"moved {visit} to {carer}{when}",
            )

        return self._change(tenant, day, "plan.move", apply, **who)

    def reoptimise(
        self, tenant: str, day: dt.date, out: tuple[str, ...] = (), **who: Any
    ) -> DayRecord:
        """Re-plan what has not started around the locks (``out``: carers off from now)."""

        def apply(record: DayRecord, at: int) -> DayRecord:
            gone = tuple(sorted({*record.out, *out}))
            for carer in out:
                record.problem.carer(carer)
            return self._reoptimised(record, at, gone, (), {}, "re-optimised")

        return self._change(tenant, day, "plan.reoptimise", apply, **who)

    def urgent(self, tenant: str, day: dt.date, client: str, because: str, **who: Any) -> DayRecord:
        """Add a welfare visit to ``client`` within two hours from now, and re-plan."""
        if not 0 < who["now"] - _midnight(day) < DAY:
            raise Refused(f"an urgent visit goes into today's plan, and {day} is not today")

        def apply(record: DayRecord, at: int) -> DayRecord:
            visit = urgent_visit(record.problem, client, at)
            why = f"urgent welfare visit: {because}"
            return self._reoptimised(
                record, at, record.out, (visit,), {visit.id: why}, f"urgent visit to {client}"
            )

        return self._change(tenant, day, "plan.urgent_visit", apply, **who)

    def _reoptimised(
        self,
        record: DayRecord,
        at: int,
        out: tuple[str, ...],
        added: tuple[Any, ...],
        why: dict[str, str],
        what: str,
    ) -> DayRecord:
        with _SOLVING:
            problem, plan, notes = reoptimise(
                record.problem,
                record.plan,
                record.locks,
                at,
                self.seconds,
                added=added,
                out=out,
                why_added=why,
            )
        moved = sum(1 for n in notes if n.what == "moved")
        visits = "visit" if moved == 1 else "visits"
        summary = f"{what}: {moved} {visits} changed carer, {len(notes)} changes in all"
        return replace(
            record, problem=problem, plan=plan, out=out, notes=tuple(notes), summary=summary
        )

    def _change(
        self,
        tenant: str,
        day: dt.date,
        action: str,
        apply: Callable[[DayRecord, int], DayRecord],
        *,
        actor: str,
        now: float,
        version: int | None = None,
    ) -> DayRecord:
        """Apply a change to the newest version and save the next one (audited)."""
        record = self.day(tenant, day)
        if version is not None and version != record.version:
            raise Refused(
                f"the plan changed since this page showed version {version} (now version "
                f"{record.version}: {record.summary}); look at it again before changing it"
            )
        at = seconds_into(day, now)
        if at >= DAY:
            raise Refused(f"{day.isoformat()} is over: its plan can no longer change")
        new = replace(apply(record, at), action=action)
        saved = self.store.save(
            tenant,
            KIND,
            day.isoformat(),
            record.version + 1,
            encode(new),
            time=now,
            actor=actor,
            action=action,
            summary=new.summary,
        )
        if not saved:
            raise Refused("someone else changed the plan at the same moment; look at it again")
        return replace(new, version=record.version + 1)


__all__ = ["KIND", "DayRecord", "DocumentStore", "FirstPlan", "PlanBook", "decode", "encode"]
