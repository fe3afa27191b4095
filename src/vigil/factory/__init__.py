"""A car plant on a private 5G network: machines, lines and the cells they depend on.

So far the domain declares its tenants (plants), entities and pages; machine state,
OEE and network health are issue 10's work.
"""

from vigil.factory.domain import domain

__all__ = ["domain"]
