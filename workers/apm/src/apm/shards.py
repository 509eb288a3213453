"""The Durable Objects' logic behind thin RPC methods (entry.py binds them to the runtime)."""

from __future__ import annotations

import json
from typing import Any

from apm import archive, sampling
from apm.control import ControlStore
from apm.rows import ALL_ROUTES
from apm.spanstore import SpanStore
from apm.statstore import StatsStore, Total
from apm.summary import describe, merged

DECIDE_BATCH = 5000


class SpanShardCore:
    def __init__(self, sql: Any, env: Any) -> None:
        self.store = SpanStore(sql)
        self.env = env

    def ingest(self, chunks: list[Any], resources: list[Any], now_ms: int) -> dict[str, Any]:
        return self.store.insert(chunks, resources, int(now_ms))

    def sample(self, policy: dict[str, Any], now_ms: int) -> dict[str, int]:
        rules = sampling.Policy.of(policy)
        quiet_before = int(now_ms) - int(rules.decision_wait_s * 1000)
        kept, dropped = sampling.split(self.store.pending(quiet_before, DECIDE_BATCH), rules)
        deleted = self.store.decide(kept, dropped)
        return {"kept": len(kept), "dropped": len(dropped), "spans_deleted": deleted}

    async def archive(self, now_ms: int, shard: int) -> dict[str, int]:
        return await archive.archive(self.store, self.env.ARCHIVE, int(shard), int(now_ms))

    async def purge_archive(self, now_ms: int) -> int:
        return await archive.purge(self.env.ARCHIVE, int(now_ms))


class StatsShardCore:
    def __init__(self, sql: Any) -> None:
        self.store = StatsStore(sql)

    def totals(self, kind: str, start: int, end: int, hourly: bool, a: str | None) -> list[Any]:
        found = self.store.totals(kind, int(start), int(end), bool(hourly), a)
        return [total.wire(key_a, key_b) for (key_a, key_b), total in found.items()]

    def describe(
        self, kind: str, start: int, end: int, hourly: bool, a: str | None, apdex_t: float | None
    ) -> str:
        """Numbers per key and per `a` (service, caller...), computed where the sketches are:
        every key of one `a` lives in this shard, so nothing is left to merge elsewhere. As
        JSON text: one immutable string crosses RPC without a per-value copy."""
        found = self.store.totals(kind, int(start), int(end), bool(hourly), a)
        minutes = int(end) - int(start)
        keys = [
            [ka, kb, describe(t, minutes, apdex_t)]
            for (ka, kb), t in found.items()
            if kind != "route" or kb != ALL_ROUTES
        ]
        # Route keys have a per-service aggregate under b == ""; other kinds are merged here.
        groups: dict[str, list[Total]] = {}
        for (ka, kb), total in found.items():
            if kind == "route" and kb != ALL_ROUTES:
                continue
            groups.setdefault(ka, []).append(total)
        described = [[ka, describe(merged(ts), minutes, apdex_t)] for ka, ts in groups.items()]
        return json.dumps({"keys": keys, "groups": described}, separators=(",", ":"))

    def summary(
        self, start: int, end: int, hourly: bool, service: str | None, apdex_t: float
    ) -> str:
        """The `/apm/summary` rows of this shard's services, each already its JSON text.

        `{"routes": [[requests, service, route, text]], "services": [[service, text]]}`: the
        Worker sorts by the plain values and joins the texts, so each row is encoded once,
        here, rather than encoded, decoded and encoded again."""
        found = self.store.totals("route", int(start), int(end), bool(hourly), service)
        minutes = int(end) - int(start)
        routes, services = [], []
        for (a, b), total in found.items():
            numbers = describe(total, minutes, apdex_t)
            if b == ALL_ROUTES:  # the service's own key
                services.append([a, _object({"service": a, **numbers})])
            else:
                text = _object({"service": a, "route": b, **numbers})
                routes.append([numbers["requests"], a, b, text])
        return json.dumps({"routes": routes, "services": services}, separators=(",", ":"))

    def series(
        self, kind: str, a: str, b: str | None, start: int, end: int, step: int, hourly: bool
    ) -> list[Any]:
        buckets = self.store.series(kind, a, b, int(start), int(end), int(step), bool(hourly))
        return [
            [minute, t.count, t.errors, t.sketch.to_bytes()]
            for minute, t in sorted(buckets.items())
        ]


# As FastAPI's JSONResponse renders: compact, UTF-8, and no NaN or infinity (an error, not
# invalid JSON).
_object = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class ControlCore:
    def __init__(self, sql: Any) -> None:
        self.store = ControlStore(sql)
