"""Client CPU a row of the event log's PostgreSQL insert: ``executemany`` (before) and
binary ``COPY`` (now, ``vigil.store.event_log._insert``).

Each method inserts the same rows, in commit groups of ``--group`` rows, into a
database of its own on 127.0.0.1:5432 (created here, dropped after). CPU is this
process's (``time.process_time``: psycopg's encoding and the driver's work); the
server's own work is not in it. Wall time per row is shown too.

    python benchmarks/pg_insert.py                  # 200,000 rows a method
    python benchmarks/pg_insert.py --rows 20000     # quicker
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from vigil.store import migrate
from vigil.store.database import open_engine
from vigil.store.event_log import _COLUMNS, _insert
from vigil.store.schema import event_log

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(prefix: str = "vigil_bench") -> Iterator[str]:
    """A new database of its own on the local PostgreSQL, dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(first: int, count: int) -> list[tuple[Any, ...]]:
    """Log rows as ``EventLog.stage`` makes them: a reading with its JSON body."""
    now = time.time()
    result = []
    for offset in range(first, first + count):
        device = offset % 5000
        body = (
            f'{{"type":"reading","tenant":"north-council","device":"north-council.home-'
            f'{device // 10:04d}.sensor-{device % 10}","entity":"north-council.home-'
            f'{device // 10:04d}","seq":{offset},"time":{now + offset * 1e-5},'
            f'"metric":"temperature","value":{20.0 + offset % 50 / 10}}}'
        )
        result.append(
            (offset, "north-council", device // 10 + 1, device + 1, offset, "reading",
             now + offset * 1e-5, now, "temperature", 20.0 + offset % 50 / 10, body)
        )  # fmt: skip
    return result


def executemany(connection: Connection, values: list[tuple[Any, ...]]) -> None:
    """What ``_insert`` did on PostgreSQL before COPY."""
    markers = ", ".join(["%s"] * len(event_log.columns))
    statement = f"INSERT INTO event_log ({_COLUMNS}) VALUES ({markers})"
    connection.exec_driver_sql(statement, values)


def copy_text(connection: Connection, values: list[tuple[Any, ...]]) -> None:
    """Text COPY with ``write_row``: the alternative to binary, for comparison."""
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY event_log ({_COLUMNS}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


METHODS: dict[str, Callable[[Connection, list[tuple[Any, ...]]], None]] = {
    "executemany": executemany,
    "copy_text": copy_text,
    "copy_binary": _insert,
}


def measure(
    engine: Engine, insert: Callable, total: int, group: int, first: int = 1
) -> dict[str, float]:
    groups = [rows(start, group) for start in range(first, first + total, group)]
    cpu = wall = 0.0
    for values in groups:
        with engine.begin() as connection:
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            insert(connection, values)
            cpu += time.process_time() - cpu_start
            wall += time.perf_counter() - wall_start
    inserted = sum(len(g) for g in groups)
    return {
        "rows": inserted,
        "group": group,
        "client_cpu_us_per_row": round(cpu / inserted * 1e6, 2),
        "wall_us_per_row": round(wall / inserted * 1e6, 2),
    }


def run(total: int = 200_000, group: int = 5000) -> dict[str, dict[str, float]]:
    results = {}
    for name, insert in METHODS.items():
        with scratch_database() as url:
            engine = open_engine(url)
            try:
                migrate.upgrade(engine)
                warm_up = min(total, 2 * group)
                measure(engine, insert, warm_up, group)
                results[name] = measure(engine, insert, total, group, first=warm_up + 1)
            finally:
                engine.dispose()
        print(
            f"  {name:12} {results[name]['client_cpu_us_per_row']:6.2f} µs client CPU a row, "
            f"{results[name]['wall_us_per_row']:6.2f} µs wall"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--group", type=int, default=5000, help="rows a transaction")
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.group), indent=2))


if __name__ == "__main__":
    main()
