"""The header every logs benchmark prints: interpreter, machine, load."""

from __future__ import annotations

import os
import platform
import sys


def header(title: str) -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"# {title}\n"
        f"interpreter: {sys.implementation.name} {platform.python_version()} ({sys.executable})\n"
        f"machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}\n"
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other work on the machine slows every figure alike)\n"
    )
