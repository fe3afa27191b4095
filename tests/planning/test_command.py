"""run_plan, the body of a future ``vigil plan`` command, plans, checks and reports progress."""

from __future__ import annotations

import datetime as dt
import io

from tests.planning.helpers import small_problem
from vigil.planning.command import day_problem, run_plan


def test_run_plan_prints_progress_and_a_checked_summary() -> None:
    """Progress lines are timestamped, the plan passes the checker, and the summary says so."""
    out = io.StringIO()
    result = run_plan("north-council", "2026-12-04", seconds=1.0, problem=small_problem(), out=out)
    text = out.getvalue()
    assert result.report.feasible
    assert "planning north-council on 2026-12-04: 5 visits, 3 carers, 1 double-handed" in text
    assert "checker: feasible" in text
    assert text.splitlines()[0].startswith("[")


def test_a_tenant_day_is_seeded_by_tenant_and_date() -> None:
    """Same tenant and date give the same simulated day; another date gives another."""
    day = dt.date(2026, 12, 4)
    assert day_problem("t", day).visits == day_problem("t", day).visits
    assert day_problem("t", day).name != day_problem("t", dt.date(2026, 12, 5)).name
