"""A realistic council day, generated from a seed, for benchmarks, tests and demos.

A town of about 7 x 7 km; clients mostly in the centre and along two corridors;
four visit rounds (morning, lunch, tea, bed) with UK home-care tolerances (a
visit may start 45 minutes either side of its planned time); medication and
hoist skills; double-handed hoist visits by two carers at once; car and walking
carers on early and late shifts, each with a 30-minute rest break and an
eight-hour working limit. Times are seconds since midnight, places in metres.
"""

from __future__ import annotations

import numpy as np

from vigil.planning.model import Break, Carer, Link, Problem, Visit, Weights
from vigil.planning.travel import CoordinateTravel

HOUR = 3600
ROUNDS = (  # planned time range, share of visits, typical durations in minutes
    ((7.5 * HOUR, 10.5 * HOUR), 0.3, (30, 45, 30, 15)),
    ((11.5 * HOUR, 14 * HOUR), 0.25, (30, 15, 30)),
    ((15.5 * HOUR, 18 * HOUR), 0.25, (30, 15, 30)),
    ((19 * HOUR, 21.5 * HOUR), 0.2, (30, 30, 15)),
)


def council_day(
    visits: int = 400,
    carers: int = 40,
    double_share: float = 0.15,
    walking_share: float = 0.25,
    seed: int = 0,
    tolerance: int = 45 * 60,
) -> Problem:
    """About ``visits`` care visits (a double-handed one counts once) and ``carers`` carers."""
    rng = np.random.default_rng(seed)
    n_clients = max(1, visits // 2)
    centre = np.array([3500.0, 3500.0])
    spread = rng.choice([600.0, 1200.0, 2000.0], size=n_clients, p=[0.35, 0.4, 0.25])
    clients = np.clip(centre + rng.normal(size=(n_clients, 2)) * spread[:, None], 0, 7000)
    hoist_clients = set(
        rng.choice(n_clients, size=max(1, int(n_clients * double_share)), replace=False).tolist()
    )
    medication = rng.random(n_clients) < 0.4
    locations: list[tuple[float, float]] = [(float(x), float(y)) for x, y in clients]
    office = len(locations)
    locations.append((3500.0, 3500.0))
    made: list[Visit] = []
    links: list[Link] = []
    count = 0
    for (low, high), share, durations in ROUNDS:
        wanted = round(visits * share)
        chosen = rng.choice(n_clients, size=min(wanted, n_clients), replace=False)
        for client in sorted(chosen.tolist()):
            planned = int(rng.uniform(low, high) // 300 * 300)
            minutes = int(rng.choice(durations))
            skills = {"medication"} if medication[client] and rng.random() < 0.6 else set()
            base = Visit(
                id=f"c{client}-{count}",
                client=f"c{client}",
                location=client,
                earliest=planned - tolerance,
                latest=planned + tolerance,
                duration=minutes * 60,
                skills=frozenset(skills),
            )
            count += 1
            if client in hoist_clients and len(links) < visits * double_share:
                first = Visit(
                    **{
                        **base.__dict__,
                        "id": base.id + "a",
                        "skills": frozenset({"hoist", *skills}),
                    }
                )
                second = Visit(
                    **{**base.__dict__, "id": base.id + "b", "skills": frozenset({"hoist"})}
                )
                made += [first, second]
                links.append(Link(first.id, second.id, 0, 0))
            else:
                made.append(base)
    team: list[Carer] = []
    for k in range(carers):
        walking = k < int(carers * walking_share)
        early = k % 2 == 0
        start, end = (7 * HOUR, 15 * HOUR) if early else (14 * HOUR, 22 * HOUR)
        skills = {"medication"} if rng.random() < 0.7 else set()
        if rng.random() < 0.5:
            skills.add("hoist")
        rest = (11 * HOUR, 13 * HOUR) if early else (17.5 * HOUR, 19.5 * HOUR)
        home = office if walking else len(locations)
        if not walking:
            locations.append(tuple(float(v) for v in rng.uniform(500, 6500, size=2)))
        team.append(
            Carer(
                id=f"carer{k:02d}",
                start_location=home,
                end_location=home,
                shift_start=start,
                shift_end=end,
                skills=frozenset(skills),
                travel_mode="foot" if walking else "car",
                max_work=8 * HOUR,
                breaks=(Break(int(rest[0]), int(rest[1]), 30 * 60),),
            )
        )
    return Problem(
        locations=tuple(locations),
        visits=tuple(made),
        carers=tuple(team),
        travel=CoordinateTravel(locations),
        links=tuple(links),
        weights=Weights(travel=1, tardiness=0, max_tardiness=0, unassigned=100_000),
        name=f"council-day-{seed}",
    )


__all__ = ["council_day"]
