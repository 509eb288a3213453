"""What the `MetricsShard` Durable Object answers over RPC (entry.py only delegates here).

Arguments and results are plain JSON-able values; failures a caller can cause come back as
`{"error": message}` rather than as exceptions, which lose their type crossing RPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra import reader
from infra.anomalies import Watch
from infra.query import QueryError
from infra.shard import ShardCore

COMPACT_EVERY_MS = 60_000


class ShardHost:
    def __init__(self, sql: Any) -> None:
        self.core = ShardCore(sql)
        self.watch = Watch(self.core)
        self._compacted_at = 0
        self._expired_hour = -1

    def ingest(self, payload: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
        """A `Batch.payloads` part: `{"h": header, "d": packed numbers}`."""
        header, data = payload.get("h"), payload.get("d")
        if not isinstance(header, str) or not isinstance(data, bytes):
            return {"accepted": 0, "rejected": 0, "errors": ["payload needs h (str), d (bytes)"]}
        try:
            result = self.core.ingest_payload(header, data, now_ms).as_dict()
        except ValueError as error:
            return {"accepted": 0, "rejected": 0, "errors": [str(error)]}
        self.maintain_if_due(now_ms)
        return result

    def query(self, spec: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
        try:
            return reader.run_query(self.core, spec, now_ms)
        except QueryError as error:
            return {"error": str(error)}

    def series(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        return reader.list_series(self.core, prefix, limit)

    def maintain(self, now_ms: int) -> dict[str, Any]:
        """Compact finished hours and apply retention; cheap when there is nothing to do."""
        self._compacted_at = now_ms
        compacted = self.core.compact(now_ms)
        expired = {"chunks": 0, "rollups": 0, "series": 0}
        if now_ms // 3_600_000 != self._expired_hour:  # retention scans tables: hourly is enough
            self._expired_hour = now_ms // 3_600_000
            expired = self.core.expire(now_ms)
        return {"compacted": compacted, **expired}

    def maintain_if_due(self, now_ms: int) -> None:
        if now_ms - self._compacted_at >= COMPACT_EVERY_MS:
            self.maintain(now_ms)

    def stats(self) -> dict[str, int]:
        return self.core.size()

    def detect(self, now_ms: int) -> dict[str, Any]:
        """Evaluate every active signal; returns the anomalies opened and resolved."""
        return self.watch.run(now_ms)

    def anomalies(
        self, state: str | None, since_ms: int, metric: str | None, limit: int
    ) -> list[dict[str, Any]]:
        return [dict(row) for row in self.watch.list(state, since_ms, metric, limit)]
