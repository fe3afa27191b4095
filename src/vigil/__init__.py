"""Vigil: telemetry from connected sensors, turned into proactive action.

The packages: ``events`` (the wire schema), ``ingest``, ``engine``, ``store``,
``alerts`` (the alert model), ``domains`` (how a domain plugs in), the domains
``monitoring`` (domain-agnostic operators), ``care`` and ``factory``, ``planning``,
``sim``, ``datasets``, ``clients``, ``security``, ``web``, and ``testing`` (the
operator contract suite and in-memory seams).
"""

__version__ = "0.1.0"
