"""Edge locations: requests, error rate and latency per Cloudflare colo.

Three views, kept apart because they measure different things: the Workers' own invocations
(binding telemetry: wall time per request, colo from the `CF-Ray` header), Cloudflare's
analytics (every Worker of the account, when polled; quantiles cannot be merged, so the worst
5-minute p99 is shown), and the APM Worker's spans when it answers `colo_stats(start_ms,
end_ms)` with `[{colo, requests, errors, p95_ms}]` (optional: when it cannot, the report says
why in `sources.spans_error` and the other views are still answered).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from infra import store
from obs_schema import timespec

APM = "APM"
TIMEOUT_S = 5.0


async def report(env: Any, start_ms: int, now_ms: int) -> dict[str, Any]:
    async def one(metric: str, fn: str, by: list[str]) -> list[dict[str, Any]]:
        spec = {"metric": metric, "matchers": [], "fn": fn, "by": by, "align": False,
                "start_ms": start_ms, "end_ms": now_ms,
                "step_s": max(60, (now_ms - start_ms) // 1000 + 60)}  # fmt: skip
        result = await store.query(env, spec, now_ms)
        return [] if "error" in result else list(result["series"])

    (calls, p50, p95, cf_calls, cf_errors, cf_p99), (spans, spans_error) = await asyncio.gather(
        asyncio.gather(
            one("worker_invocations_total", "sum", ["colo", "status"]),
            one("worker_invocation_duration_seconds", "p50", ["colo"]),
            one("worker_invocation_duration_seconds", "p95", ["colo"]),
            one("cloudflare_workers_requests", "sum", ["colo"]),
            one("cloudflare_workers_errors", "sum", ["colo"]),
            one("cloudflare_workers_wall_time_p99_seconds", "max", ["colo"]),
        ),
        _spans(env, start_ms, now_ms),
    )
    rows: dict[str, dict[str, Any]] = {}
    for colo, totals in _by_colo(calls).items():
        rows.setdefault(colo, {})["telemetry"] = {
            **_rates(sum(totals.values()), totals.get("5xx", 0.0)),
            "p50_ms": _ms(_value(p50, colo)),
            "p95_ms": _ms(_value(p95, colo)),
        }
    for colo, requests in _per_colo(cf_calls).items():
        rows.setdefault(colo, {})["cloudflare"] = {
            **_rates(requests, _per_colo(cf_errors).get(colo, 0.0)),
            "wall_p99_ms_worst": _ms(_value(cf_p99, colo)),
        }
    for item in spans or []:
        colo = str(item.get("colo", ""))
        rows.setdefault(colo, {})["spans"] = {
            **_rates(float(item.get("requests", 0)), float(item.get("errors", 0))),
            "p95_ms": item.get("p95_ms"),
        }
    views = ("telemetry", "cloudflare", "spans")
    listed = [{"colo": colo, **{k: found.get(k) for k in views}} for colo, found in rows.items()]
    listed.sort(key=lambda row: (-max(_requests(row.get(k)) for k in views), row["colo"]))
    return {
        "since": timespec.format_rfc3339(start_ms / 1000),
        "until": timespec.format_rfc3339(now_ms / 1000),
        "sources": {
            "telemetry": bool(calls),
            "cloudflare": bool(cf_calls),
            "spans": spans is not None,
            **({"spans_error": spans_error} if spans_error else {}),
        },
        "colos": listed,
    }


def _requests(view: Any) -> int:
    return int(view.get("requests", 0)) if isinstance(view, Mapping) else 0


def _by_colo(series: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for s in series:
        colo, status = s["labels"].get("colo", ""), s["labels"].get("status", "")
        out.setdefault(colo, {})[status] = sum(v or 0.0 for v in s["values"])
    return out


def _per_colo(series: list[dict[str, Any]]) -> dict[str, float]:
    return {s["labels"].get("colo", ""): sum(v or 0.0 for v in s["values"]) for s in series}


def _value(series: list[dict[str, Any]], colo: str) -> float | None:
    for s in series:
        if s["labels"].get("colo") == colo:
            values = [v for v in s["values"] if v is not None]
            return max(values) if values else None
    return None


def _rates(requests: float, errors: float) -> dict[str, Any]:
    return {
        "requests": int(requests),
        "errors": int(errors),
        "error_rate": round(errors / requests, 4) if requests else None,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


async def _spans(
    env: Any, start_ms: int, now_ms: int
) -> tuple[list[Mapping[str, Any]] | None, str | None]:
    """The APM Worker's rows, or None and why not: this view is optional, so a missing binding,
    a failing or slow APM Worker, or an answer of the wrong shape leaves it out, named in
    `sources.spans_error`, and the other views are still answered."""
    binding = getattr(env, APM, None)
    if binding is None:
        return None, "no APM service binding is configured"
    try:
        found = await asyncio.wait_for(binding.colo_stats(start_ms, now_ms), TIMEOUT_S)
    except TimeoutError:
        return None, f"the APM Worker's colo_stats did not answer within {TIMEOUT_S:g} s"
    except Exception as error:  # any failure of the other Worker degrades this view only
        return None, f"the APM Worker's colo_stats failed: {type(error).__name__}: {error}"[:300]
    if not isinstance(found, list):
        return None, "the APM Worker's colo_stats answered something other than a list"
    return [item for item in found if isinstance(item, Mapping)], None
