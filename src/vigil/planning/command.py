"""What ``vigil plan --tenant T --date D`` runs, for a CLI to call.

The CLI itself lives in :mod:`vigil.cli` (being rewritten elsewhere); this function
is its whole body: build or take the day's problem, plan it with a progress
display, check the plan independently, and print a summary. Until visits and
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
from typing import TextIO

from vigil.planning.checker import Report, check
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
    used = sum(1 for route in plan.routes if route.stops)
    progress(
        f"done: {len(problem.visits) - len(plan.unassigned)} visits planned on {used} runs, "
        f"{len(plan.unassigned)} not placed, travel {report.travel / 60:,.0f} min, "
        f"checker: {'feasible' if report.feasible else ', '.join(sorted(report.kinds()))}"
    )
    for visit_id in plan.unassigned[:20]:
        out.write(f"  not placed: {visit_id}\n")
    return PlanResult(problem, plan, report)


__all__ = ["PlanResult", "day_problem", "run_plan"]
