"""The key numbers each Worker reports over RPC: `await env.<WORKER>.snapshot() -> dict`.

The monitoring Worker's summary and the alerting Worker's rules read these. Every key is
optional (`total=False`): a consumer uses `.get()` and shows "unknown" for what is missing, so
Workers can be deployed one at a time. Counts are over the last five minutes unless named.
"""

from __future__ import annotations

from typing import TypedDict


class LogsSnapshot(TypedDict, total=False):
    records_5m: int
    errors_5m: int  # error and worse
    errors_by_service_5m: dict[str, int]


class ApmSnapshot(TypedDict, total=False):
    requests_5m: int
    error_rate_5m: float  # 0..1
    p95_ms_5m: float | None
    p99_ms_5m: float | None
    by_service_5m: dict[str, dict[str, float | int | None]]  # requests, error_rate, p95_ms


class MonitoringSnapshot(TypedDict, total=False):
    checks: int
    down: int
    open_incidents: int
    uptime_24h: float | None  # percent


class InfraSnapshot(TypedDict, total=False):
    anomalies_active: int
    capacity_warnings: int
    kv_p95_ms_5m: float | None


class SecuritySnapshot(TypedDict, total=False):
    events_5m: int
    blocks_active: int
    rate_limited_5m: int
    threats_5m: int


class AlertingSnapshot(TypedDict, total=False):
    firing: int
    acknowledged: int
    open_incidents: int
