"""Cloudflare's GraphQL Analytics API: the query we send and what its answer becomes.

One request per poll asks the account's datasets for 5-minute groups over the window:
`workersInvocationsAdaptive` (requests, errors, subrequests, CPU and wall time quantiles, per
script, status and colo), `kvOperationsAdaptiveGroups` (requests and latency per namespace and
action), `r2OperationsAdaptiveGroups` (requests per bucket, action and status),
`r2StorageAdaptiveGroups` (bytes and objects per bucket) and
`durableObjectsInvocationsAdaptiveGroups` (requests per script and namespace). Field names
follow Cloudflare's docs (developers.cloudflare.com/analytics/graphql-api/, and the KV, R2 and
Durable Objects "metrics and analytics" pages); CPU and wall times are in microseconds, KV
latency in milliseconds.

Every value is stored as the total of its 5-minute group at the group's start, in series that
keep the last value per minute: polling the same window again overwrites, never double counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from infra.samples import Batch

DATASETS = (
    "workersInvocationsAdaptive",
    "kvOperationsAdaptiveGroups",
    "r2OperationsAdaptiveGroups",
    "r2StorageAdaptiveGroups",
    "durableObjectsInvocationsAdaptiveGroups",
)
LIMIT = 10_000
STEP_MS = 300_000

# Variables are declared `string`, as Cloudflare's own Workers tutorial declares them.
_QUERY = """query PitcheyInfraPoll($accountTag: string!, $start: string!, $end: string!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      workersInvocationsAdaptive(
        limit: %(limit)d, filter: {datetime_geq: $start, datetime_lt: $end}
      ) {
        sum { requests errors subrequests }
        quantiles { cpuTimeP50 cpuTimeP99 wallTimeP50 wallTimeP99 }
        dimensions { datetimeFiveMinutes scriptName status%(colo)s }
      }
      kvOperationsAdaptiveGroups(
        limit: %(limit)d, filter: {datetime_geq: $start, datetime_lt: $end}
      ) {
        sum { requests }
        quantiles { latencyMsP50 latencyMsP99 }
        dimensions { datetimeFiveMinutes namespaceId actionType }
      }
      r2OperationsAdaptiveGroups(
        limit: %(limit)d, filter: {datetime_geq: $start, datetime_lt: $end}
      ) {
        sum { requests }
        dimensions { datetimeFiveMinutes bucketName actionType actionStatus }
      }
      r2StorageAdaptiveGroups(
        limit: %(limit)d, filter: {datetime_geq: $start, datetime_lt: $end}
        orderBy: [datetime_DESC]
      ) {
        max { objectCount payloadSize metadataSize }
        dimensions { datetime bucketName }
      }
      durableObjectsInvocationsAdaptiveGroups(
        limit: %(limit)d, filter: {datetime_geq: $start, datetime_lt: $end}
      ) {
        sum { requests }
        dimensions { datetimeFiveMinutes scriptName namespaceId }
      }
    }
  }
}"""


class AnalyticsError(Exception):
    """The API answered with errors (GraphQL `errors`, or an HTTP error status)."""


def request_body(account: str, start_ms: int, end_ms: int, colo: bool = True) -> dict[str, Any]:
    query = _QUERY % {"limit": LIMIT, "colo": " coloCode" if colo else ""}
    return {
        "query": query,
        "variables": {"accountTag": account, "start": _iso(start_ms), "end": _iso(end_ms)},
    }


def account_data(answer: Any) -> Mapping[str, Any]:
    """The `accounts[0]` object of an answer; AnalyticsError when the answer carries errors."""
    if not isinstance(answer, Mapping):
        raise AnalyticsError("the answer is not a JSON object")
    errors = answer.get("errors")
    if errors:
        messages = [str(e.get("message", e)) for e in errors if isinstance(e, Mapping)]
        raise AnalyticsError("; ".join(messages) or "unknown error")
    accounts = ((answer.get("data") or {}).get("viewer") or {}).get("accounts") or []
    if not accounts or not isinstance(accounts[0], Mapping):
        raise AnalyticsError("the answer holds no account (is CF_ACCOUNT_ID right?)")
    found: Mapping[str, Any] = accounts[0]
    return found


def add_answer(batch: Batch, account: Mapping[str, Any]) -> dict[str, int]:
    """Map one account's groups into series; returns how many groups each dataset had."""
    counts: dict[str, int] = {}
    for dataset, mapper in _MAPPERS.items():
        groups = account.get(dataset) or []
        counts[dataset] = 0
        for group in groups if isinstance(groups, list) else []:
            try:
                mapper(batch, group)
                counts[dataset] += 1
            except (KeyError, TypeError, ValueError):
                continue  # a group we cannot read is skipped; the others still count
    return counts


def _workers(batch: Batch, group: Mapping[str, Any]) -> None:
    dims, sums, q = group["dimensions"], group.get("sum") or {}, group.get("quantiles") or {}
    t = _time(dims["datetimeFiveMinutes"])
    labels = {
        "script": str(dims["scriptName"]),
        "status": str(dims.get("status", "")),
        "colo": str(dims.get("coloCode") or ""),
    }
    for field in ("requests", "errors", "subrequests"):
        _gauge(batch, f"cloudflare_workers_{field}", labels, t, sums.get(field))
    for field, name in _QUANTILES:
        value = q.get(field)
        if value is not None:
            batch.number(f"cloudflare_workers_{name}_seconds", labels, t, float(value) / 1e6,
                         counter=False, agg="max", unit="s")  # fmt: skip


_QUANTILES = (
    ("cpuTimeP50", "cpu_time_p50"),
    ("cpuTimeP99", "cpu_time_p99"),
    ("wallTimeP50", "wall_time_p50"),
    ("wallTimeP99", "wall_time_p99"),
)


def _kv(batch: Batch, group: Mapping[str, Any]) -> None:
    dims, q = group["dimensions"], group.get("quantiles") or {}
    t = _time(dims["datetimeFiveMinutes"])
    labels = {"namespace": str(dims["namespaceId"]), "action": str(dims["actionType"])}
    _gauge(batch, "cloudflare_kv_operations", labels, t, (group.get("sum") or {}).get("requests"))
    for field, name in (("latencyMsP50", "p50"), ("latencyMsP99", "p99")):
        if q.get(field) is not None:
            batch.number(f"cloudflare_kv_latency_{name}_seconds", labels, t,
                         float(q[field]) / 1000, counter=False, agg="max", unit="s")  # fmt: skip


def _r2(batch: Batch, group: Mapping[str, Any]) -> None:
    dims = group["dimensions"]
    labels = {"bucket": str(dims["bucketName"]), "action": str(dims["actionType"]),
              "status": str(dims.get("actionStatus", ""))}  # fmt: skip
    value = (group.get("sum") or {}).get("requests")
    _gauge(batch, "cloudflare_r2_operations", labels, _time(dims["datetimeFiveMinutes"]), value)


def _r2_storage(batch: Batch, group: Mapping[str, Any]) -> None:
    dims, peak = group["dimensions"], group.get("max") or {}
    t = _time(dims["datetime"]) // STEP_MS * STEP_MS
    labels = {"bucket": str(dims["bucketName"])}
    stored = float(peak.get("payloadSize") or 0) + float(peak.get("metadataSize") or 0)
    batch.number("cloudflare_r2_storage_bytes", labels, t, stored, counter=False, unit="By")
    if peak.get("objectCount") is not None:
        batch.number("cloudflare_r2_objects", labels, t, float(peak["objectCount"]), counter=False)


def _durable_objects(batch: Batch, group: Mapping[str, Any]) -> None:
    dims = group["dimensions"]
    labels = {"script": str(dims["scriptName"]), "namespace": str(dims.get("namespaceId", ""))}
    value = (group.get("sum") or {}).get("requests")
    _gauge(batch, "cloudflare_do_requests", labels, _time(dims["datetimeFiveMinutes"]), value)


_MAPPERS = {
    "workersInvocationsAdaptive": _workers,
    "kvOperationsAdaptiveGroups": _kv,
    "r2OperationsAdaptiveGroups": _r2,
    "r2StorageAdaptiveGroups": _r2_storage,
    "durableObjectsInvocationsAdaptiveGroups": _durable_objects,
}


def _gauge(batch: Batch, name: str, labels: Mapping[str, str], t: int, value: Any) -> None:
    """A 5-minute total, stored idempotently: the last value written for its minute wins."""
    if value is not None:
        batch.number(name, labels, t, float(value), counter=False)


def _time(text: str) -> int:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dataset_names(body: Mapping[str, Any]) -> Sequence[str]:
    return [name for name in DATASETS if name in str(body.get("query", ""))]
