"""Which log records become alerts, decided in one place (the AlertGate Durable Object).

Two kinds: every `critical`/`fatal` record, and bursts - a service logging `LOGS_ERROR_BURST`
errors or worse within `LOGS_ERROR_BURST_WINDOW`. Each is sent at most once per service and
message fingerprint per `LOGS_ALERT_DEDUP`: the gate is a single Durable Object so that the
decision is consistent however many isolates ingest (KV could not count or dedup reliably).

Ingest summarises a batch into groups (`summarise`) and sends the gate only what it decides
on (`Ask`: critical pairs, per-service counts), never a row per record; the gate answers with
verdicts that `alerts_of` turns back into alerts. The gate's SQL is five set-wise
statements per batch (bulk values as one JSON array unpacked by `json_each`), not a few per
group: it runs for every ingest batch of the deployment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from logs.rows import FINGERPRINT, LEVEL, MESSAGE, SERVICE, TRACE, TS
from logs.store.sqlapi import Sql

ERROR, CRITICAL = 5, 6  # Level ranks
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS errors (service TEXT NOT NULL, minute INTEGER NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY (service, minute)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS fired (key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL)"
    " WITHOUT ROWID",
    # Every batch forgets expired keys: without this index that is a scan of every key fired
    # within the dedup time, which grows with the distinct fingerprints ingest sees.
    "CREATE INDEX IF NOT EXISTS fired_by_until ON fired (until_ms)",
)
_COUNT = (
    "INSERT INTO errors (service, minute, count)"
    " SELECT json_extract(value, '$[0]'), ?, json_extract(value, '$[1]') FROM json_each(?)"
    " WHERE true ON CONFLICT (service, minute) DO UPDATE SET count = count + excluded.count"
)
_TOTALS = (
    "SELECT service, sum(count) AS n FROM errors WHERE minute > ?"
    " AND service IN (SELECT value FROM json_each(?)) GROUP BY service"
)
# Remembers the keys not sent within the dedup time and returns them, in one statement: a key
# still within its time is left alone (the update's WHERE) and so not returned.
_FIRE = (
    "INSERT INTO fired (key, until_ms) SELECT value, ? FROM json_each(?) WHERE true"
    " ON CONFLICT (key) DO UPDATE SET until_ms = excluded.until_ms"
    " WHERE fired.until_ms <= ? RETURNING key"
)

Ask = dict[str, list[list[Any]]]
"""What the gate decides on: `critical` [service, fingerprint] pairs (in group order) and
`services` [service, errors in this batch, most frequent fingerprint] (in first-seen order)."""
Verdict = list[Any]
"""[kind, service, fingerprint, count]: count is the window's total for a burst, else None."""


def summarise(rows: Sequence[list[Any]]) -> list[dict[str, Any]]:
    """Error-or-worse rows grouped by (service, fingerprint): count, worst level, a sample."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    # Most rows are below `error`: filtering them in a comprehension first is the cheap part.
    for row in [row for row in rows if row[LEVEL] >= ERROR]:
        key = (row[SERVICE], row[FINGERPRINT])
        group = groups.get(key)
        if group is None:
            groups[key] = {
                "service": key[0],
                "fingerprint": key[1],
                "level": row[LEVEL],
                "count": 1,
                "message": row[MESSAGE][:500],
                "trace_id": row[TRACE],
                "ts": row[TS],
            }
            continue
        group["count"] += 1
        if row[LEVEL] > group["level"]:
            group["level"] = row[LEVEL]
            group["message"] = row[MESSAGE][:500]
            group["trace_id"] = row[TRACE]
            group["ts"] = row[TS]
    return list(groups.values())


def merge(into: dict[tuple[str, str], dict[str, Any]], groups: list[dict[str, Any]]) -> None:
    """Add `summarise` groups of another batch to `into`, as one summary of both batches."""
    for group in groups:
        key = (group["service"], group["fingerprint"])
        known = into.get(key)
        if known is None:
            into[key] = group
        elif group["level"] > known["level"]:
            into[key] = {**group, "count": known["count"] + group["count"]}
        else:
            known["count"] += group["count"]


def ask(groups: Sequence[dict[str, Any]]) -> Ask:
    """The part of `groups` the gate needs (the samples stay with the caller)."""
    critical = [[g["service"], g["fingerprint"]] for g in groups if g["level"] >= CRITICAL]
    # service -> [service, total, top fingerprint, top count]; the first of equal counts wins.
    services: dict[str, list[Any]] = {}
    for group in groups:
        entry = services.get(group["service"])
        if entry is None:
            services[group["service"]] = [
                group["service"],
                group["count"],
                group["fingerprint"],
                group["count"],
            ]
            continue
        entry[1] += group["count"]
        if group["count"] > entry[3]:
            entry[2], entry[3] = group["fingerprint"], group["count"]
    return {"critical": critical, "services": [entry[:3] for entry in services.values()]}


def alerts_of(
    groups: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]
) -> list[dict[str, Any]]:
    """The gate's verdicts as alerts: the group's sample, its kind, and a burst's total."""
    by_key = {(group["service"], group["fingerprint"]): group for group in groups}
    alerts = []
    for kind, service, fingerprint, total in verdicts:
        alert = {**by_key[(service, fingerprint)], "kind": kind}
        if kind == "burst":
            alert["count"] = int(total)
        alerts.append(alert)
    return alerts


def _key(kind: str, service: str, fingerprint: str) -> str:
    return f"{kind}\x1f{service}\x1f{fingerprint}"


class GateCore:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        for statement in _SCHEMA:
            sql.exec(statement)

    def decide(self, batch: Ask, now_ms: int, policy: dict[str, int]) -> list[Verdict]:
        """The alerts to send for this batch (already deduplicated): criticals in the order
        given, then bursts in service order."""
        services = batch["services"]
        window_start = (now_ms - policy["window_ms"]) // 60000
        totals: dict[str, int] = {}
        if services:
            counts = json.dumps([[service, count] for service, count, _ in services])
            self.sql.exec(_COUNT, now_ms // 60000, counts)
            names = json.dumps([service for service, _, _ in services])
            for row in self.sql.exec(_TOTALS, window_start, names).toArray():
                totals[row["service"]] = int(row["n"])
        candidates: list[Verdict] = [
            ["critical", service, fingerprint, None] for service, fingerprint in batch["critical"]
        ]
        candidates += [
            ["burst", service, top, totals.get(service, 0)]
            for service, _, top in services
            if totals.get(service, 0) >= policy["threshold"]
        ]
        verdicts = self._first(candidates, now_ms, policy["dedup_ms"])
        self._forget(now_ms, window_start)
        return verdicts

    def _first(self, candidates: list[Verdict], now_ms: int, dedup_ms: int) -> list[Verdict]:
        """The candidates not sent within the dedup time (and remembered as sent now)."""
        if not candidates:
            return []
        keys = [_key(kind, service, fingerprint) for kind, service, fingerprint, _ in candidates]
        rows = self.sql.exec(_FIRE, now_ms + dedup_ms, json.dumps(keys), now_ms).toArray()
        fired = {row["key"] for row in rows}
        return [verdict for verdict, key in zip(candidates, keys, strict=True) if key in fired]

    def _forget(self, now_ms: int, window_start: int) -> None:
        self.sql.exec("DELETE FROM errors WHERE minute <= ?", window_start)
        self.sql.exec("DELETE FROM fired WHERE until_ms <= ?", now_ms)
