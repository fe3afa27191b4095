"""Readers for the published benchmark instances, turned into :class:`Problem`s.

- **Solomon VRPTW** in the LKH-3 text format (``SCALE : 10``, ``FLOOR_2D``): times
  and distances are multiplied by ten and truncated, the DIMACS convention, so a
  plan's travel divided by ten is comparable with the best-known distances.
- **Mankowska et al. (2014) HHCRSP**: node 0 is the depot (and the last node its
  copy for returning); ``r`` gives each node's required services, ``DS`` the
  1-based ids of double-service patients, ``a`` which carer may give which service,
  ``d`` the distances (equal to travel times), ``p`` a row per node *and* carer of
  service times (the rows of one node repeat, so the first is used), ``mind``/``maxd``
  the delay between the two services of a patient (both 0: simultaneous) and
  ``e``/``l`` the earliest and latest start. A late start is allowed and costs its
  lateness. Each service becomes one :class:`Visit` (skill ``s<k>``); a double
  service becomes two visits joined by a :class:`Link` from the lower to the higher
  service index. Times are multiplied by :data:`MANKOWSKA_SCALE` and rounded.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from vigil.planning.model import Carer, Link, PlanningError, Problem, Visit, Weights
from vigil.planning.travel import MatrixTravel, euclidean_matrix

MANKOWSKA_SCALE = 100


@dataclass(frozen=True)
class Instance:
    """A benchmark instance: the problem, its name, and how to turn a cost back into
    the published unit (divide by ``scale``)."""

    name: str
    problem: Problem
    scale: float


def read_solomon(path: str | Path, vehicles: int | None = None) -> Instance:
    """Read one Solomon instance in the LKH-3 ``.vrptw`` format.

    The distance-only records (``distmin_distance_dimacs``) let the fleet be as large
    as needed, so by default there is one vehicle per customer; ``vehicles`` caps it
    (the file's ``VEHICLES`` is the fleet of the best-known distance-only solution).
    """
    path = Path(path)
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif ":" in line and current is None:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        elif current is not None:
            sections[current].append(line.split())
    try:
        scale = int(header.get("SCALE", "1"))
        service = int(header.get("SERVICE_TIME", "0")) * scale
        coords = [(float(x), float(y)) for _, x, y in sections["NODE_COORD_SECTION"]]
        demand = [int(d) for _, d in sections["DEMAND_SECTION"]]
        windows = [(int(a) * scale, int(b) * scale) for _, a, b in sections["TIME_WINDOW_SECTION"]]
        depot = int(sections["DEPOT_SECTION"][0][0]) - 1
        file_vehicles = int(header["VEHICLES"])
        capacity = int(header["CAPACITY"])
    except (KeyError, ValueError, IndexError) as err:
        raise PlanningError(f"{path.name}: not a Solomon instance in LKH-3 format") from err
    if vehicles is None:
        vehicles = max(file_vehicles, len(coords) - 1)
    matrix = euclidean_matrix(coords, scale=scale, rounding="floor")
    visits = tuple(
        Visit(
            id=str(node),
            client=str(node),
            location=node,
            earliest=windows[node][0],
            latest=windows[node][1],
            duration=service,
            demand=demand[node],
        )
        for node in range(len(coords))
        if node != depot
    )
    carers = tuple(
        Carer(
            id=f"v{k}",
            start_location=depot,
            end_location=depot,
            shift_start=windows[depot][0],
            shift_end=windows[depot][1],
            capacity=capacity,
        )
        for k in range(vehicles)
    )
    name = header.get("NAME", path.stem.split(".")[0])
    problem = Problem(tuple(coords), visits, carers, MatrixTravel({"car": matrix}), name=name)
    return Instance(name, problem, float(scale))


def _mankowska_sections(path: Path) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line[0].isalpha():
            current = line
            sections[current] = []
        elif current is not None:
            sections[current].extend(line.split())
    return sections


def read_mankowska(path: str | Path, scale: int = MANKOWSKA_SCALE) -> Instance:
    """Read one Mankowska HHCRSP instance (``InstanzCPLEX_*`` or ``InstanzVNS_*``)."""
    path = Path(path)
    s = _mankowska_sections(path)
    try:
        nodes, vehicles, services = (int(s[k][0]) for k in ("nbNodes", "nbVehi", "nbServi"))
        need = _grid(s["r"], nodes, services, int)
        qualified = _grid(s["a"], vehicles, services, int)
        distance = _grid(s["d"], nodes, nodes, float)
        times = _grid(s["p"], nodes * vehicles, services, float)
        xs, ys = (list(map(float, s[k][:nodes])) for k in ("x", "y"))
        min_delay, max_delay, early, late = (
            list(map(float, s[k][:nodes])) for k in ("mind", "maxd", "e", "l")
        )
        double = {int(v) - 1 for v in s.get("DS", [])}
    except (KeyError, ValueError, IndexError) as err:
        raise PlanningError(f"{path.name}: not a Mankowska HHCRSP instance") from err
    matrix = [[round(distance[i][j] * scale) for j in range(nodes)] for i in range(nodes)]
    visits: list[Visit] = []
    links: list[Link] = []
    for node in range(1, nodes - 1):
        wanted = [k for k in range(services) if need[node][k]]
        expected = 2 if node in double else 1
        if len(wanted) != expected:
            raise PlanningError(f"{path.name}: node {node} needs {len(wanted)} services")
        ids = []
        for k in wanted:
            ids.append(f"{node}.s{k}")
            visits.append(
                Visit(
                    id=ids[-1],
                    client=str(node),
                    location=node,
                    earliest=round(early[node] * scale),
                    latest=round(late[node] * scale),
                    duration=round(times[node * vehicles][k] * scale),
                    skills=frozenset({f"s{k}"}),
                    soft_latest=True,
                )
            )
        if len(ids) == 2:
            low, high = round(min_delay[node] * scale), round(max_delay[node] * scale)
            if min_delay[node] <= 0.001:
                low = high = 0
            links.append(Link(ids[0], ids[1], low, high))
    horizon = round(max(late) * scale) * 10 + sum(v.duration for v in visits)
    carers = tuple(
        Carer(
            id=f"v{v}",
            start_location=0,
            end_location=0,
            shift_start=0,
            shift_end=horizon,
            skills=frozenset(f"s{k}" for k in range(services) if qualified[v][k]),
        )
        for v in range(vehicles)
    )
    problem = Problem(
        locations=tuple(zip(xs, ys, strict=True)),
        visits=tuple(visits),
        carers=carers,
        travel=MatrixTravel({"car": matrix}),
        links=tuple(links),
        weights=Weights(travel=1, tardiness=1, max_tardiness=1),
        name=path.stem,
    )
    return Instance(path.stem, problem, float(scale))


def _grid(values: list[str], rows: int, cols: int, kind: type) -> list[list]:
    if len(values) < rows * cols:
        raise ValueError(f"expected {rows}x{cols} values, got {len(values)}")
    return [[kind(values[r * cols + c]) for c in range(cols)] for r in range(rows)]


def read_bks(path: str | Path, key: str, value: str) -> dict[str, float]:
    """A best-known-solutions CSV as ``{row[key]: float(row[value])}``."""
    with Path(path).open(newline="") as handle:
        return {row[key]: float(row[value]) for row in csv.DictReader(handle)}


def mankowska_objective(travel: float, tardiness: float, max_tardiness: float) -> float:
    """The instances' published objective: (travel + total + maximum lateness) / 3."""
    return (travel + tardiness + max_tardiness) / 3


__all__ = [
    "MANKOWSKA_SCALE",
    "Instance",
    "mankowska_objective",
    "read_bks",
    "read_mankowska",
    "read_solomon",
]
