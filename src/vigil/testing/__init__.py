"""The operator contract, as a check-suite anyone can run on their own operator.

River-style: ``yield_checks(operator)`` yields named checks, each a function
``check(operator, events)`` stating one property in its docstring (state
round-trips, determinism, key and tenant isolation, the declared late policy, no
wall clock, odd inputs, well-formed outputs); ``check_operator`` runs them all.
``sample_events`` makes the seeded, messy event stream they run on.

>>> from vigil.monitoring import DeviceHealth
>>> check_operator(DeviceHealth, sample_events(seed=1, tenants=2, entities=2, hours=8))
"""

from vigil.testing.checks import Check, check_operator, yield_checks
from vigil.testing.guards import forbid_wall_clock
from vigil.testing.memory import MemoryCheckpointStore, MemoryLog
from vigil.testing.runs import (
    ChainRun,
    assert_same_outputs,
    assert_well_formed,
    fresh_copy,
    run,
    run_chain,
    run_with_restarts,
)
from vigil.testing.samples import canonical, odd_events, records, sample_events

__all__ = [
    "ChainRun",
    "Check",
    "MemoryCheckpointStore",
    "MemoryLog",
    "assert_same_outputs",
    "assert_well_formed",
    "canonical",
    "check_operator",
    "forbid_wall_clock",
    "fresh_copy",
    "odd_events",
    "records",
    "run",
    "run_chain",
    "run_with_restarts",
    "sample_events",
    "yield_checks",
]
