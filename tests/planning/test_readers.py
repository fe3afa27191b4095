"""The readers parse the real published instance files (skipped where the data is absent,
failed under CI=true)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vigil.planning import check
from vigil.planning.model import Plan, Route, Stop
from vigil.planning.readers import read_bks, read_mankowska, read_solomon

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")


def _need(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing (CI=true: the reference data must be present)")
        pytest.skip(f"{path} is missing")
    return path


def test_solomon_c101_is_read_with_the_dimacs_scale() -> None:
    """C101 has 100 customers, capacity 200, service 90 (900 scaled) and truncated
    distances: depot (40, 50) to customer 1 (45, 68) is 18.68 -> 186."""
    instance = read_solomon(_need(DATA / "vrptw" / "solomon_100" / "C101.100.10.vrptw"))
    problem = instance.problem
    assert len(problem.visits) == 100
    assert instance.scale == 10
    assert problem.carers[0].capacity == 200
    assert problem.visits[0].duration == 900
    assert (problem.visits[0].earliest, problem.visits[0].latest) == (9120, 9670)
    assert problem.travel.time("car", 0, 1) == 186
    bks = read_bks(DATA / "vrptw" / "solomon_100_bks.csv", "instance", "distmin_distance_dimacs")
    assert bks["C101"] == 827.3


def test_mankowska_a1_services_pairs_and_skills() -> None:
    """A1 has 10 patients, 3 carers, 6 services; patients 8, 9 and 10 need two services:
    8 at once, 9 with 51-102 between them, 10 with 8-16."""
    instance = read_mankowska(_need(DATA / "hhcrsp" / "mankowska" / "InstanzCPLEX_HCSRP_10_1.txt"))
    problem = instance.problem
    assert len(problem.carers) == 3
    assert len(problem.visits) == 13
    links = {link.first.split(".")[0]: link for link in problem.links}
    assert sorted(links) == ["10", "8", "9"]
    assert (links["8"].min_delay, links["8"].max_delay) == (0, 0)
    assert (links["9"].min_delay, links["9"].max_delay) == (5100, 10200)
    assert (links["10"].min_delay, links["10"].max_delay) == (800, 1600)
    assert problem.carers[0].skills == frozenset({"s0", "s1", "s2"})
    assert problem.visit("1.s3").duration == 1400
    assert problem.visit("1.s3").soft_latest


def test_mankowska_checker_objective_by_hand() -> None:
    """One carer's run to patient 1 and back costs twice the file's distance."""
    instance = read_mankowska(_need(DATA / "hhcrsp" / "mankowska" / "InstanzCPLEX_HCSRP_10_1.txt"))
    problem = instance.problem
    routes = [Route(c.id, ()) for c in problem.carers]
    routes[2] = Route("v2", (Stop("1.s3", 34500),))
    report = check(problem, Plan(tuple(routes)))
    assert report.travel == 2 * round(38.470768 * 100)
    assert "unassigned" in report.kinds()


def test_every_mankowska_file_reads() -> None:
    """All 70 instances parse, with one or two visits per patient."""
    folder = _need(DATA / "hhcrsp" / "mankowska")
    files = sorted(folder.glob("*.txt"))
    assert len(files) == 70
    for path in files:
        problem = read_mankowska(path).problem
        patients = {v.client for v in problem.visits}
        assert len(problem.visits) == len(patients) + len(problem.links)
