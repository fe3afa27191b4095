"""The machine a benchmark ran on, for its results file: figures from machines of
this kind differ by up to 2x, so every result says where it was measured."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
