"""Ingest: records in, scrubbed rows stored, the answer of partial acceptance out.

Each record is checked on its own (a bad one is rejected with its index and reason, the rest
are stored), scrubbed before anything else sees it, enriched (receive time, source, edge
location, template fingerprint) and written to its shard. Only then is the batch acknowledged:
a 2xx means every accepted record is committed to Durable Object storage. Live tails are woken
and alert checks run after the answer (`host.defer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from logs import alerts, redaction
from logs import rows as rowsmod
from logs.attributes import AttributeCodec
from logs.intake import BadLine, Entry, normalise
from logs.rejection import RecordError, Rejections
from logs.settings import Settings
from logs.store.logstore import LogStore
from logs.store.placement import Placement
from logs.tail import hub
from obs_schema import host


@dataclass
class IngestResult:
    accepted: int
    rejections: Rejections

    def answer(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejections.listed}


def store_for(env: Any, settings: Settings) -> LogStore:
    return LogStore(env.LOG_SHARD, env.LOG_CATALOG, Placement(settings.slots, settings.bucket_ms))


async def ingest(
    env: Any, records: Sequence[Any], *, source: str, edge: str, settings: Settings
) -> IngestResult:
    scrubber = await redaction.scrubber_for(env)
    received = host.now_ms()
    oldest = received - settings.hot_retention_ms
    newest = received + settings.future_tolerance_ms
    codec = AttributeCodec(scrubber)
    rejections = Rejections()
    entries: list[Entry] = []
    for index, item in enumerate(records):
        if isinstance(item, BadLine):
            rejections.add(index, item.reason)
            continue
        try:
            entry = normalise(item, received, codec)
        except RecordError as error:
            rejections.add(index, str(error))
            continue
        if not oldest <= entry.ts <= newest:
            rejections.add(index, _out_of_window(entry.ts < oldest, settings))
            continue
        entries.append(entry)
    rows = rowsmod.build(entries, scrubber, received, source, edge)
    if rows:
        await store_for(env, settings).insert(rows)
        hub.publish()
        host.defer(alerts.observe(env, rows, settings))
    return IngestResult(len(rows), rejections)


def _out_of_window(too_old: bool, settings: Settings) -> str:
    if too_old:
        days = settings.hot_retention_ms / 86400_000
        return f"timestamp is older than the hot retention ({days:g} days)"
    hours = settings.future_tolerance_ms / 3600_000
    return f"timestamp is more than {hours:g} hours in the future"


def edge_location(headers: Any, settings: Settings) -> str:
    """The Cloudflare colo that received the request (the suffix of `cf-ray`), else the
    configured local value."""
    ray = headers.get("cf-ray") or ""
    colo = ray.rpartition("-")[2] if "-" in ray else ""
    return colo.upper() if colo.isalpha() and len(colo) <= 5 else settings.edge_location
