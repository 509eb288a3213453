"""Silences in storage, and the muting verdict (silenced or inhibited) for a set of alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from alerting.hub.alerts import Alert
from alerting.hub.db import Db, dumps, loads
from alerting.inhibition import Candidate, Inhibitor, InhibitRule
from alerting.silences import Silence


class Silences:
    def __init__(self, db: Db) -> None:
        self.db = db

    def get(self, silence_id: str) -> Silence | None:
        raw = self.db.value("SELECT body FROM silences WHERE id = ?", silence_id)
        return None if raw is None else Silence.from_row(loads(raw))

    def all(self) -> list[Silence]:
        rows = self.db.rows("SELECT body FROM silences ORDER BY created_ms DESC, id")
        return [Silence.from_row(loads(row["body"])) for row in rows]

    def active(self, now_ms: int) -> list[Silence]:
        rows = self.db.rows(
            "SELECT body FROM silences WHERE starts_ms <= ? AND ends_ms > ?", now_ms, now_ms
        )
        return [Silence.from_row(loads(row["body"])) for row in rows]

    def put(self, silence: Silence, now_ms: int) -> None:
        self.db.run(
            "INSERT INTO silences (id, body, starts_ms, ends_ms, created_ms) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET body = excluded.body, starts_ms = excluded.starts_ms, "
            "ends_ms = excluded.ends_ms",
            silence.id, dumps(silence.to_row()), silence.starts_ms, silence.ends_ms, now_ms,
        )  # fmt: skip


class Muting:
    """Which active alerts are silenced or inhibited, right now."""

    def __init__(
        self,
        silences: Iterable[Silence],
        rules: Iterable[InhibitRule],
        firing: Iterable[Alert],
        now_ms: int,
    ) -> None:
        self.silences = list(silences)
        self.now_ms = now_ms
        candidates = (Candidate(a.fingerprint, a.labels) for a in firing if a.active)
        self.inhibitor = Inhibitor(rules, candidates)

    def silenced_by(self, labels: Mapping[str, str]) -> list[str]:
        return [s.id for s in self.silences if s.mutes(labels, self.now_ms)]

    def inhibited_by(self, fingerprint: str, labels: Mapping[str, str]) -> list[str]:
        source = self.inhibitor.inhibited_by(fingerprint, labels)
        return [source] if source else []

    def muted(self, alert: Alert) -> bool:
        if not alert.active:
            return False
        return bool(
            self.silenced_by(alert.labels) or self.inhibited_by(alert.fingerprint, alert.labels)
        )
