"""A car plant on a private 5G network: machines, lines and the cells they depend on.

``MachineOEE`` keeps each machine's state and its OEE for the current shift (ISO
22400-2), with downtime reasons, microstops and stop alerts; ``LineOEE``, chained
after it, rolls its machines up per line. Sparkplug B, OPC UA and network health
are still to come (issue 10).
"""

from vigil.factory.domain import domain
from vigil.factory.line import LineOEE
from vigil.factory.machine import MachineOEE
from vigil.factory.shifts import ShiftCalendar

__all__ = ["LineOEE", "MachineOEE", "ShiftCalendar", "domain"]
