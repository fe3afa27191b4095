"""A car plant on a private 5G network: machines, lines and the cells they depend on.

``MachineOEE`` keeps each machine's state and its OEE for the current shift (ISO
22400-2), with downtime reasons, microstops and stop alerts; ``LineOEE``, chained
after it, rolls its machines up per line. ``LinkHealth`` follows each 5G link
(availability and survival time per TS 22.104), ``CellServiceLevel`` judges each
cell's device classes against their service levels, and ``StopAttribution``
tells machine stops the network caused from those the machine did.
"""

from vigil.factory.attribution import StopAttribution
from vigil.factory.cell import CellServiceLevel
from vigil.factory.domain import domain
from vigil.factory.line import LineOEE
from vigil.factory.link import LinkHealth
from vigil.factory.machine import MachineOEE
from vigil.factory.service_levels import DEFAULT_SERVICE_LEVELS, ServiceLevel
from vigil.factory.shifts import ShiftCalendar

__all__ = [
    "DEFAULT_SERVICE_LEVELS",
    "CellServiceLevel",
    "LineOEE",
    "LinkHealth",
    "MachineOEE",
    "ServiceLevel",
    "ShiftCalendar",
    "StopAttribution",
    "domain",
]
