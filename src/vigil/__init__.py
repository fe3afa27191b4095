"""Vigil: telemetry from connected sensors, turned into proactive action.

The packages: ``events`` (the wire schema), ``ingest``, ``engine``, ``store``,
``signals`` (domain-agnostic operators), ``sim``, ``datasets``, ``clients``,
``security``, ``web``, and ``testing`` (the operator contract suite).
"""

__version__ = "0.1.0"
