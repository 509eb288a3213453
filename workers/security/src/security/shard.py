"""One security shard: the state of every client key that hashes to it.

The Durable Object `SecurityShard` (entry.py) delegates here. A shard holds, for its keys:
rate-limit counters, behavioural profiles (IP, user, account), security events, incidents
and per-minute tallies. Each RPC is one Durable Object event, so everything a call decides
about one key is atomic. Arguments and results are plain dicts (RPC rules).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from security.behave import profiles
from security.behave.profiles import Anomaly, Thresholds
from security.limit.store import LimiterStore
from security.respond.events import EventQuery, EventStore
from security.respond.incidents import IncidentBook, Scoring

TALLY_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tallies (minute INTEGER NOT NULL, name TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (minute, name))",
    "CREATE TABLE IF NOT EXISTS profiles (subject TEXT PRIMARY KEY, state TEXT NOT NULL, "
    "updated_ms INTEGER NOT NULL)",
)
PROFILE_IDLE_MS = 7 * 24 * 3600 * 1000


_THRESHOLD_NAMES = frozenset(f.name for f in fields(Thresholds))
_SCORING_NAMES = frozenset(f.name for f in fields(Scoring))
_DEFAULT_THRESHOLDS, _DEFAULT_SCORING = Thresholds(), Scoring()


def thresholds_from(raw: dict[str, Any] | None) -> Thresholds:
    if not raw:  # the usual case: the policy keeps the defaults
        return _DEFAULT_THRESHOLDS
    return Thresholds(**{k: v for k, v in raw.items() if k in _THRESHOLD_NAMES})


def scoring_from(raw: dict[str, Any] | None) -> Scoring:
    if not raw:
        return _DEFAULT_SCORING
    return Scoring(**{k: v for k, v in raw.items() if k in _SCORING_NAMES})


class ShardCore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        for statement in TALLY_SCHEMA:
            sql.exec(statement)
        self.limiter = LimiterStore(sql)
        self.events = EventStore(sql)
        self.incidents = IncidentBook(sql)
        self._profiles: dict[str, dict[str, Any]] = {}
        self._denied: dict[tuple[str, str], int] = {}  # (rule, key) -> window end announced
        self._dirty: dict[str, tuple[dict[str, Any], int]] = {}  # profiles to write
        self._tallies: dict[tuple[int, str], int] = {}  # (minute, name) -> n, to add

    # --- the per-request call ---------------------------------------------------------------
    def check(self, bundle: dict[str, Any]) -> dict[str, Any]:
        answer = self._check(bundle)
        self._persist()
        return answer

    def check_many(self, bundles: list[dict[str, Any]]) -> dict[str, Any]:
        """Checks an isolate answered itself (security.front), in the order it answered them:
        their limits were decided on the isolate's copy of the counters, so they are counted
        here, not decided. Answers [position, answer] for the checks that found something
        (most find nothing: less to send back), plus every counter they touched as it now
        stands, for the isolate's copy. One Durable Object event for the whole batch."""
        answers = [
            [position, answer]
            for position, answer in enumerate(map(self._check, bundles))
            if answer["limits"] or answer["anomalies"] or answer["incidents"]
        ]
        touched = {
            (str(item["rule"]["id"]), str(item["key"])): int(item["rule"]["window_s"]) * 1000
            for bundle in bundles
            for item in bundle.get("limits", [])
        }
        self._persist()
        counters = []
        for (rule_id, key), window_ms in touched.items():
            state = self.limiter.counter_state(rule_id, key, window_ms)
            counters.append(
                [rule_id, key, window_ms, state.window_start_ms, state.current, state.previous]
            )
        return {"answers": answers, "counters": counters}

    def _check(self, bundle: dict[str, Any]) -> dict[str, Any]:
        now = int(bundle["now_ms"])
        if bundle.get("admitted"):
            for item in bundle.get("limits", []):
                self.limiter.admit(item["rule"], str(item["key"]), now, int(item.get("cost", 1)))
            limits: list[dict[str, Any]] = []
        else:
            limits = [self._limit(item, now) for item in bundle.get("limits", [])]
        anomalies: list[dict[str, Any]] = []
        thresholds = thresholds_from(bundle.get("thresholds"))
        request = bundle.get("request")
        if request:
            anomalies += self._observe_request(request, now, thresholds)
        user_request = bundle.get("user_request")
        if user_request:  # the same rate and enumeration baselines, per signed-in user
            anomalies += self._observe_request(user_request, now, thresholds, "user")
        location = bundle.get("location")
        if location:
            anomalies += self._observe_location(location, now, thresholds)
        limited = [d for d in limits if not d["allowed"]]
        events = list(bundle.get("events", []))
        if request:  # anomalies about this source are its events, stored where it lives
            events += [_anomaly_event(a, {**request, **(location or {})}, now) for a in anomalies]
        for denied in limited:
            if denied.pop("first_denial", False) and request:
                events.append(_rate_limit_event(denied, request, now))
        incidents = self._record(events, bundle, now) if bundle.get("record", True) else []
        tally = bundle.get("tally")
        if tally:
            self._tally(
                now, {**tally, "rate_limited": int(bool(limited) or tally.get("rate_limited", 0))}
            )
        return {"limits": limits, "anomalies": anomalies, "incidents": incidents}

    def outcome(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """A response the caller sent: 4xx bursts (per source and per signed-in user), failed
        logins (per source and per account)."""
        now = int(bundle["now_ms"])
        t = thresholds_from(bundle.get("thresholds"))
        found: list[Anomaly] = []
        subject = str(bundle.get("subject", ""))
        if subject.startswith("acct:"):
            state = self._profile(subject)
            if bundle.get("success") is False:
                found = profiles.observe_account_failure(state, now, bundle["ip"], t)
            self._save_profile(subject, state, now)
        elif subject.startswith("user="):  # one user scanning from many addresses
            state = self._profile(subject)
            found = profiles.observe_outcome(
                state, now, int(bundle.get("status", 200)), None, None, t, "user"
            )
            self._save_profile(subject, state, now)
        else:
            subject = f"ip={bundle['ip']}"
            state = self._profile(subject)
            found = profiles.observe_outcome(
                state,
                now,
                int(bundle.get("status", 200)),
                bundle.get("account"),
                bundle.get("success"),
                t,
            )
            self._save_profile(subject, state, now)
        anomalies = [_anomaly(a) for a in found]
        incidents = []
        if bundle.get("record", True):
            events = [_anomaly_event(a, bundle, now) for a in anomalies]
            incidents = self._record(events, bundle, now)
        self._persist()
        return {"anomalies": anomalies, "incidents": incidents}

    def record(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """Store events produced elsewhere (another shard's anomalies about this source)."""
        now = int(bundle["now_ms"])
        return {"incidents": self._record(list(bundle.get("events", [])), bundle, now)}

    # --- queries ----------------------------------------------------------------------------
    def query_events(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        before = query.get("before")
        return self.events.query(
            EventQuery(
                type=query.get("type"),
                ip=query.get("ip"),
                user_id=query.get("user_id"),
                since_ms=int(query.get("since_ms", 0)),
                until_ms=int(query.get("until_ms", 2**62)),
                before=(int(before[0]), str(before[1])) if before else None,
                limit=int(query.get("limit", 100)),
            )
        )

    def query_incidents(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        before = query.get("before")
        return self.incidents.query(
            ip=query.get("ip"),
            status=query.get("status"),
            since_ms=int(query.get("since_ms", 0)),
            min_score=float(query.get("min_score", 0)),
            limit=int(query.get("limit", 100)),
            before=(int(before[0]), str(before[1])) if before else None,
        )

    def get_incident(self, incident_id: str) -> dict[str, Any] | None:
        return self.incidents.get(incident_id)

    def set_incident_status(
        self, incident_id: str, status: str, now_ms: int
    ) -> dict[str, Any] | None:
        return self.incidents.set_status(incident_id, status, now_ms)

    def summary(self, since_ms: int, top: int = 10) -> dict[str, Any]:
        rows = self.sql.exec(
            "SELECT name, sum(n) AS n FROM tallies WHERE minute >= ? GROUP BY name",
            since_ms // 60_000,
        ).toArray()
        return {
            "tallies": {str(r["name"]): int(r["n"]) for r in rows},
            "events": self.events.counts_since(since_ms),
            "top_sources": self.events.top_sources(since_ms, top),
            "top_routes": self.events.top_routes(since_ms, top),
        }

    def maintain(self, now_ms: int, scoring: dict[str, Any] | None = None) -> dict[str, Any]:
        """Housekeeping (the shard's alarm): retention, idle incidents, stale state."""
        self.events.prune(now_ms)
        closed = self.incidents.close_idle(now_ms, scoring_from(scoring))
        self.limiter.sweep(now_ms)
        self.sql.exec("DELETE FROM tallies WHERE minute < ?", (now_ms - 86_400_000) // 60_000)
        self.sql.exec("DELETE FROM profiles WHERE updated_ms < ?", now_ms - PROFILE_IDLE_MS)
        self._profiles.clear()
        return {"closed_incidents": closed}

    # --- internals --------------------------------------------------------------------------
    def _limit(self, item: dict[str, Any], now: int) -> dict[str, Any]:
        rule, key = item["rule"], str(item["key"])
        decision = self.limiter.decide(rule, key, now, int(item.get("cost", 1)))
        out = {
            "rule": rule["id"],
            "key": key,
            "window_s": int(rule["window_s"]),
            "allowed": decision.allowed,
            "limit": decision.limit,
            "remaining": decision.remaining,
            "reset_ms": decision.reset_ms,
            "retry_after_ms": decision.retry_after_ms,
        }
        if rule.get("mode") != "exact":  # the isolate's copy to decide on (security.front)
            state = self.limiter.counter_state(rule["id"], key, int(rule["window_s"]) * 1000)
            out["state"] = [state.window_start_ms, state.current, state.previous]
        if not decision.allowed:
            window_end = now + decision.reset_ms
            announced = self._denied.get((rule["id"], key), 0)
            out["first_denial"] = announced <= now
            self._denied[(rule["id"], key)] = window_end
            if len(self._denied) > 10_000:
                self._denied.clear()
        return out

    def _observe_request(
        self, request: dict[str, Any], now: int, t: Thresholds, kind: str = "ip"
    ) -> list[dict[str, Any]]:
        subject = f"ip={request['ip']}" if kind == "ip" else f"user={request['user_id']}"
        state = self._profile(subject)
        found = profiles.observe_request(
            state, now, str(request.get("path", "/")), str(request.get("route") or ""), t
        )
        self._save_profile(subject, state, now)
        for anomaly in found:
            anomaly.detail["subject"] = kind
        return [_anomaly(a) for a in found]

    def _observe_location(
        self, location: dict[str, Any], now: int, t: Thresholds
    ) -> list[dict[str, Any]]:
        subject = f"user={location['user_id']}"
        state = self._profile(subject)
        found = profiles.observe_location(
            state,
            now,
            location.get("country"),
            location.get("asn"),
            location.get("lat"),
            location.get("lon"),
            t,
        )
        self._save_profile(subject, state, now)
        return [_anomaly(a) for a in found]

    def _record(
        self, events: list[dict[str, Any]], bundle: dict[str, Any], now: int
    ) -> list[dict[str, Any]]:
        scoring = scoring_from(bundle.get("scoring"))
        request = bundle.get("request") or {}
        updates: dict[str, dict[str, Any]] = {}
        for event in events:
            event.setdefault("ip", request.get("ip") or bundle.get("ip"))
            incident = self.incidents.correlate(event, now, scoring)
            self.events.add(event, now, incident["id"])
            previous = updates.get(incident["id"])
            if previous is not None:  # keep the "crossed a line" flags of earlier events
                incident["should_alert"] |= previous["should_alert"]
                incident["should_block"] |= previous["should_block"]
            updates[incident["id"]] = incident
        return list(updates.values())

    def _tally(self, now: int, counts: dict[str, Any]) -> None:
        minute = now // 60_000
        for name, n in counts.items():
            if isinstance(n, int) and n:
                self._tallies[(minute, name)] = self._tallies.get((minute, name), 0) + n

    def _profile(self, subject: str) -> dict[str, Any]:
        cached = self._profiles.get(subject)
        if cached is not None:
            return cached
        rows = self.sql.exec("SELECT state FROM profiles WHERE subject = ?", subject).toArray()
        state: dict[str, Any] = json.loads(rows[0]["state"]) if rows else {}
        if len(self._profiles) > 20_000:
            self._profiles.clear()
        self._profiles[subject] = state
        return state

    def _save_profile(self, subject: str, state: dict[str, Any], now: int) -> None:
        self._dirty[subject] = (state, now)  # written once per event by _persist

    def _persist(self) -> None:
        """Write what this event changed: each profile and admitted counter once, however many
        checks of a batch touched it (the event's end commits them together)."""
        for subject, (state, now) in self._dirty.items():
            self.sql.exec(
                "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?)",
                subject,
                json.dumps(state, separators=(",", ":")),
                now,
            )
        self._dirty.clear()
        for (minute, name), n in self._tallies.items():
            self.sql.exec(
                "INSERT INTO tallies VALUES (?, ?, ?) ON CONFLICT (minute, name) "
                "DO UPDATE SET n = n + excluded.n",
                minute,
                name,
                n,
            )
        self._tallies.clear()
        self.limiter.write_admitted()


def _anomaly(found: Anomaly) -> dict[str, Any]:
    return {"type": found.type, "score": found.score, "detail": found.detail}


def _anomaly_event(anomaly: dict[str, Any], bundle: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "type": anomaly["type"],
        "ip": bundle["ip"],
        "user_id": bundle.get("user_id"),
        "route": bundle.get("route"),
        "score": anomaly["score"],
        "action": "allow",
        "evidence": anomaly["detail"],
        "time_ms": now,
    }


def _rate_limit_event(denied: dict[str, Any], request: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "type": "rate_limit",
        "ip": request["ip"],
        "user_id": request.get("user_id"),
        "route": request.get("route") or request.get("path"),
        "score": 2,
        "action": "rate_limited",
        "time_ms": now,
        "evidence": {
            "rule": denied["rule"],
            "limit": denied["limit"],
            "retry_after_s": -(-denied["retry_after_ms"] // 1000),
        },
    }
