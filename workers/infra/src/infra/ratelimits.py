"""Rate-limiting effectiveness, sampled from the security Worker every 5 minutes.

Two sources, each optional (the security Worker may be absent or older):
- its `snapshot()` RPC (the cross-Worker contract): requests rate-limited and events in the
  last 5 minutes, blocks in force - counted in its Durable Objects, so exact;
- its `/security/metrics?format=json` over the service binding: checks by action (allowed vs
  limited), rate-limit hits by rule, and the top offending sources. These counters belong to
  the isolate that answered; resets are handled as counter resets.

Stored as series (`security_*`), so they chart, alert and feed anomaly detection like any other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from infra.samples import Batch

SECURITY = "SECURITY"
METRICS_URL = "https://security.internal/security/metrics?format=json"
TIMEOUT_S = 5.0
SNAPSHOT_GAUGES = {
    "rate_limited_5m": "security_rate_limited_5m",
    "blocks_active": "security_blocks_active",
    "events_5m": "security_events_5m",
    "threats_5m": "security_threats_5m",
}
SCRAPED = {
    "security_checks_total": ("action", True),
    "security_rate_limit_hits_total": ("rule", True),
    "security_top_source_score": ("ip", False),
}


async def sample(env: Any, batch: Batch, now_ms: int) -> dict[str, bool]:
    """Add what the security Worker reports to `batch`; says which sources answered."""
    binding = getattr(env, SECURITY, None)
    if binding is None:
        return {"snapshot": False, "metrics": False}
    snapshot, metrics = await asyncio.gather(
        _call(lambda: binding.snapshot()), _call(lambda: _metrics(binding))
    )
    if isinstance(snapshot, Mapping):
        for key, name in SNAPSHOT_GAUGES.items():
            if isinstance(snapshot.get(key), int | float):
                batch.number(name, {}, now_ms, float(snapshot[key]), counter=False)
    if isinstance(metrics, Mapping):
        add_metrics(batch, metrics, now_ms)
    return {"snapshot": isinstance(snapshot, Mapping), "metrics": isinstance(metrics, Mapping)}


def add_metrics(batch: Batch, exposition: Mapping[str, Any], now_ms: int) -> None:
    """The families we use from a `render_json` exposition."""
    for family in exposition.get("metrics") or []:
        name = family.get("name") if isinstance(family, Mapping) else None
        if name not in SCRAPED:
            continue
        label, cumulative = SCRAPED[name]
        for sample in family.get("samples") or []:
            value, labels = sample.get("value"), sample.get("labels") or {}
            if not isinstance(value, int | float) or label not in labels:
                continue
            batch.number(name, {label: str(labels[label])[:128]}, now_ms, float(value),
                         counter=cumulative, cumulative=cumulative)  # fmt: skip


async def _metrics(binding: Any) -> Any:
    reply = await binding.fetch(METRICS_URL)
    if getattr(reply, "status", 500) != 200:
        return None
    return json.loads(await reply.text())


async def _call(start: Callable[[], Awaitable[Any]]) -> Any:
    """The answer, or None when the method is missing, fails or takes too long."""
    try:
        return await asyncio.wait_for(start(), TIMEOUT_S)
    except Exception:
        return None


def summarize(
    checks: list[dict[str, Any]], hits: list[dict[str, Any]], sources: list[dict[str, Any]],
    repeat_hours: int = 3,
) -> dict[str, Any]:  # fmt: skip
    """Effectiveness over a window, from query results (series with per-step values)."""
    by_action = {s["labels"].get("action", ""): sum(v or 0 for v in s["values"]) for s in checks}
    allowed = by_action.get("allow", 0.0)
    limited = by_action.get("rate_limited", 0.0)
    total = sum(by_action.values())
    rules = sorted(
        ({"rule": s["labels"].get("rule", ""), "hits": sum(v or 0 for v in s["values"])}
         for s in hits),
        key=lambda r: -r["hits"],
    )  # fmt: skip
    offenders = []
    for s in sources:
        hours = sum(1 for v in s["values"] if v)
        if hours >= repeat_hours:
            peak = max(v or 0 for v in s["values"])
            offenders.append({"ip": s["labels"].get("ip", ""), "hours_in_top": hours,
                              "peak_score": peak})  # fmt: skip
    offenders.sort(key=lambda o: (-o["hours_in_top"], -o["peak_score"]))
    return {
        "checks": int(total),
        "allowed": int(allowed),
        "rate_limited": int(limited),
        "limited_share": round(limited / total, 4) if total else None,
        "by_action": {k: int(v) for k, v in sorted(by_action.items())},
        "busiest_rules": [r for r in rules if r["hits"]][:10],
        "repeat_offenders": offenders[:20],
    }
