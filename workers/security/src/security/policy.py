"""The security policy: rate-limit rules, detection, response and anomaly settings.

One JSON document in the CONFIG KV namespace (`GET/PUT /security/rules`), read-mostly, so
KV suits it: each isolate caches it briefly and a PUT refreshes its own cache at once. The
defaults protect a fresh deployment without any configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from security.behave.profiles import Thresholds
from security.limit.rules import LimitRule
from security.respond.incidents import Scoring

KV_KEY = "security:policy"
LOGIN_ROUTES = ("/api/auth/login", "/api/login", "/login")


@dataclass(frozen=True)
class Detection:
    paranoia: int = 1
    challenge_score: int = 3  # anomaly score from which the caller should challenge
    block_score: int = 5  # and block (OWASP CRS's default inbound threshold)
    disabled_rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Response:
    auto_block: bool = True
    block_ttl_s: int = 3600
    alert_score: float = 15.0
    block_score: float = 25.0
    gap_s: int = 1800
    half_life_s: int = 3600

    def scoring(self) -> Scoring:
        return Scoring(
            self.gap_s * 1000, self.half_life_s * 1000, 0.25, self.alert_score, self.block_score
        )


@dataclass(frozen=True)
class Anomaly:
    spike_k: float = 6.0
    spike_floor: int = 120
    min_samples: int = 10
    scan_floor: int = 20
    scan_ratio: float = 0.5
    stuffing_accounts: int = 10
    stuffing_sources: int = 10
    login_window_s: int = 600
    enumeration_ids: int = 20
    enumeration_window_s: int = 300
    sequential_share: float = 0.8
    location_min_samples: int = 5
    travel_kmh: float = 1000.0
    travel_min_km: float = 500.0
    cooldown_s: int = 600

    def thresholds(self) -> Thresholds:
        return Thresholds(
            spike_k=self.spike_k,
            spike_floor=self.spike_floor,
            min_samples=self.min_samples,
            scan_floor=self.scan_floor,
            scan_ratio=self.scan_ratio,
            stuffing_accounts=self.stuffing_accounts,
            stuffing_sources=self.stuffing_sources,
            login_window_ms=self.login_window_s * 1000,
            enumeration_ids=self.enumeration_ids,
            enumeration_window_ms=self.enumeration_window_s * 1000,
            sequential_share=self.sequential_share,
            location_min_samples=self.location_min_samples,
            travel_kmh=self.travel_kmh,
            travel_min_km=self.travel_min_km,
            cooldown_ms=self.cooldown_s * 1000,
        )


DEFAULT_LIMITS = (
    LimitRule("per-ip", ("ip",), limit=600, window_s=60),
    LimitRule(
        "login-per-ip",
        ("ip",),
        limit=10,
        window_s=60,
        mode="exact",
        routes=LOGIN_ROUTES,
        methods=("POST",),
    ),
    LimitRule("per-user", ("user",), limit=1200, window_s=60),
)


@dataclass(frozen=True)
class Policy:
    rate_limits: tuple[LimitRule, ...] = DEFAULT_LIMITS
    detection: Detection = field(default_factory=Detection)
    response: Response = field(default_factory=Response)
    anomaly: Anomaly = field(default_factory=Anomaly)
    version: int = 0


def to_dict(policy: Policy) -> dict[str, Any]:
    return {
        "version": policy.version,
        "rate_limits": [
            {
                "id": r.id,
                "key": list(r.key),
                "limit": r.limit,
                "window_s": r.window_s,
                "mode": r.mode,
                "routes": list(r.routes),
                "methods": list(r.methods),
            }
            for r in policy.rate_limits
        ],
        "detection": {**_plain(policy.detection)},
        "response": _plain(policy.response),
        "anomaly": _plain(policy.anomaly),
    }


def from_dict(data: dict[str, Any]) -> Policy:
    """Trusted input (validated by the API layer, or written by it earlier)."""
    limits = tuple(
        LimitRule(
            str(r["id"]),
            tuple(r["key"]),
            int(r["limit"]),
            int(r["window_s"]),
            str(r.get("mode", "sliding_window")),
            tuple(r.get("routes", ())),
            tuple(m.upper() for m in r.get("methods", ())),
        )
        for r in data.get("rate_limits", [])
    )
    return Policy(
        rate_limits=limits,
        detection=_build(Detection, data.get("detection", {})),
        response=_build(Response, data.get("response", {})),
        anomaly=_build(Anomaly, data.get("anomaly", {})),
        version=int(data.get("version", 0)),
    )


def dumps(policy: Policy) -> str:
    return json.dumps(to_dict(policy), separators=(",", ":"))


def _plain(obj: Any) -> dict[str, Any]:
    return {
        f.name: list(v) if isinstance(v := getattr(obj, f.name), tuple) else v for f in fields(obj)
    }


def _build(cls: Any, raw: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in known}
    return cls(**values)


def thresholds(policy: Policy) -> dict[str, Any]:
    """The anomaly thresholds a shard should apply: only those that differ from its defaults
    travel (every field crosses the RPC boundary as a copy, on every check). Worked out once
    per policy object (policies are frozen); callers must not change the dict."""
    return _once(policy, "thresholds", lambda: _changed(policy.anomaly.thresholds(), Thresholds()))


def scoring(policy: Policy) -> dict[str, Any]:
    return _once(policy, "scoring", lambda: _changed(policy.response.scoring(), Scoring()))


_derived: dict[tuple[int, str], tuple[Policy, dict[str, Any]]] = {}


def _once(policy: Policy, what: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # Keyed by identity (hashing a policy walks every rule); the policy is kept so that a
    # recycled id never answers for another policy.
    found = _derived.get((id(policy), what))
    if found is None or found[0] is not policy:
        if len(_derived) > 64:
            _derived.clear()
        found = _derived[(id(policy), what)] = (policy, make())
    return found[1]


def _changed(value: Any, default: Any) -> dict[str, Any]:
    return {
        name: getattr(value, name)
        for name in value.__dataclass_fields__
        if getattr(value, name) != getattr(default, name)
    }
