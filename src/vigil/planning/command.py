"""What ``vigil plan --tenant T --date D`` runs, for a CLI to call.

:mod:`vigil.cli` parses the arguments and calls this: build or take the day's
problem, plan it with a progress display, check the plan independently, print a
summary (visits placed, those not placed and why, travel) and write the plan. Until visits and
carers are read from the store (a later part of issue 9), a tenant's day is the
simulated council day seeded by tenant and date.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from vigil.planning.checker import Report, check
from vigil.planning.export import reasons, summary, to_csv, to_json
from vigil.planning.model import Plan, Problem
from vigil.planning.scenario import council_day
from vigil.planning.solver import solve


def day_problem(tenant: str, day: dt.date) -> Problem:
    """The day to plan for a tenant: for now the simulated council day seeded by both."""
    return council_day(seed=zlib.crc32(f"{tenant}/{day.isoformat()}".encode()))


@dataclass(frozen=True)
class PlanResult:
    """A plan with its independent check."""

    problem: Problem
    plan: Plan
    report: Report


def run_plan(
    tenant: str,
    date: dt.date | str,
    seconds: float = 30.0,
    problem: Problem | None = None,
    out: TextIO | None = None,
    clock: Callable[[], float] = time.perf_counter,
    shown: int = 20,
) -> PlanResult:
    """Plan ``tenant``'s day, printing progress to ``out`` (standard output by default)."""
    out = out or sys.stdout
    day = dt.date.fromisoformat(date) if isinstance(date, str) else date
    problem = problem or day_problem(tenant, day)
    began = clock()

    def progress(message: str) -> None:
        out.write(f"[{clock() - began:6.1f} s] {message}\n")
        out.flush()

    progress(
        f"planning {tenant} on {day.isoformat()}: {len(problem.visits)} visits, "
        f"{len(problem.carers)} carers, {len(problem.links)} double-handed"
    )
    plan = solve(problem, seconds, progress=progress)
    report = check(problem, plan)
    facts = summary(problem, plan)
    progress(
        f"done: {facts.placed} of {facts.visits} visits placed on {facts.runs} runs, "
        f"{facts.unassigned} not placed, travel {facts.travel_minutes:,.0f} min, "
        f"checker: {'feasible' if report.feasible else ', '.join(sorted(report.kinds()))}"
    )
    why = reasons(problem, plan)
    for visit_id in plan.unassigned[:shown]:
        out.write(f"  not placed: {visit_id}: {why[visit_id]}\n")
    if len(plan.unassigned) > shown:
        out.write(f"  ... and {len(plan.unassigned) - shown} more (all are in the written plan)\n")
    return PlanResult(problem, plan, report)


def write_plan(result: PlanResult, path: Path, tenant: str, day: dt.date) -> Path:
    """Write the plan to ``path``: CSV if it ends in ``.csv``, JSON otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        path.write_text(to_csv(result.problem, result.plan))
    else:
        path.write_text(to_json(result.problem, result.plan, tenant, day))
    return path


__all__ = ["PlanResult", "day_problem", "run_plan", "write_plan"]
