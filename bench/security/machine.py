"""The interpreter and machine, printed at the top of every table; and the import path."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "workers/security/src", ROOT / "shared", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def header(title: str) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"== {title}\n{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
        f"load {os.getloadavg()[0]:.1f}\n{sys.executable}\n"
    )
