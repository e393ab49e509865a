"""The machine a benchmark ran on, recorded with every result (the benchmark scripts share it).

Figures from a shared 2-core machine only compare within one run, so each result carries the
cores, memory, CPU model, versions and the load average when it started.
"""

from __future__ import annotations

import importlib
import os
import platform
from pathlib import Path


def _proc_value(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def describe(*packages: str) -> dict:
    """Cores, memory, CPU, Python, the load average now, and the version of each named package."""
    mem_kb = int((_proc_value("/proc/meminfo", "MemTotal:").split() or ["0"])[0])
    return {
        "cores": os.cpu_count(),
        "memory": f"{mem_kb / 1024**2:.1f} GiB",
        "memory_mb": round(mem_kb / 1024),
        "cpu": _proc_value("/proc/cpuinfo", "model name") or "unknown",
        "python": platform.python_version(),
        **{name: importlib.import_module(name).__version__ for name in packages},
        "load_average_at_start": list(os.getloadavg()),
    }
