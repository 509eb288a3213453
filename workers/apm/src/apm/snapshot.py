"""The numbers other Workers read over RPC (`ApmSnapshot`): the last five minutes."""

from __future__ import annotations

from typing import Any

from apm import query
from apm.rows import ALL_ROUTES
from apm.statstore import Total
from apm.summary import merged
from apm.window import MINUTE_MS, Window
from obs_schema import host
from obs_schema.snapshots import ApmSnapshot

MINUTES = 5


async def snapshot(env: Any) -> ApmSnapshot:
    now_minute = host.now_ms() // MINUTE_MS
    totals = await query.totals(
        env, "route", Window(now_minute - MINUTES + 1, now_minute + 1, False)
    )
    services = {a: total for (a, b), total in totals.items() if b == ALL_ROUTES}
    everything = merged(list(services.values()))
    by_service: dict[str, dict[str, float | int | None]] = {}
    for name, total in sorted(services.items()):
        by_service[name] = {
            "requests": total.count,
            "error_rate": _rate(total),
            "p95_ms": _quantile(total, 0.95),
        }
    return {
        "requests_5m": everything.count,
        "error_rate_5m": _rate(everything),
        "p95_ms_5m": _quantile(everything, 0.95),
        "p99_ms_5m": _quantile(everything, 0.99),
        "by_service_5m": by_service,
    }


def _rate(total: Total) -> float:
    return round(total.errors / total.count, 6) if total.count else 0.0


def _quantile(total: Total, q: float) -> float | None:
    value = total.sketch.quantile(q)
    return None if value is None else round(value, 3)
