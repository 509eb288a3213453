"""Constants and small builders the infra tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}
INGEST = {"authorization": "Bearer i-tok"}
READ = {"authorization": "Bearer r-tok"}
ADMIN = {"authorization": "Bearer a-tok"}
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, where ManualClock starts
MINUTE = 60_000
HOUR = 3_600_000


def fresh_telemetry(stack: Any) -> None:
    """Worker modules stay loaded across stacks (a warm isolate): start each test's binding
    telemetry afresh, so nothing observed under an earlier stack ships into this one."""
    for worker in stack.workers.values():
        telemetry = getattr(getattr(worker.app, "state", None), "binding_telemetry", None)
        if telemetry is not None:
            telemetry.reset()
