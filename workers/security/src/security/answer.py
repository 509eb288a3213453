"""The decision a check returns: the action and its reasons, the tightest rate limit, and the
headers the caller should send back (`RateLimit-*` and `Retry-After`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from security.detect.engine import Verdict

RANK = {"allow": 0, "challenge": 1, "rate_limited": 2, "block": 3}


@dataclass
class Outcome:
    action: str = "allow"
    reasons: list[str] | None = None

    def escalate(self, action: str, reason: str) -> None:
        if self.reasons is None:
            self.reasons = []
        self.reasons.append(reason)
        if RANK[action] > RANK[self.action]:
            self.action = action


def tightest_of(limits: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not limits:
        return None
    if len(limits) == 1:  # the usual case: one rule counts the request
        return limits[0]
    denied = [d for d in limits if not d["allowed"]]
    if denied:
        return max(denied, key=lambda d: d["retry_after_ms"])
    return min(limits, key=lambda d: (d["remaining"], -d["reset_ms"]))


def rate_limit_headers(
    tightest: dict[str, Any] | None, policy_window_s: int | None
) -> dict[str, str]:
    if tightest is None:
        return {}
    reset_s = -(-int(tightest["reset_ms"]) // 1000)
    headers = {
        "RateLimit-Limit": str(tightest["limit"]),
        "RateLimit-Remaining": str(tightest["remaining"]),
        "RateLimit-Reset": str(reset_s),
    }
    if policy_window_s:
        headers["RateLimit-Policy"] = f"{tightest['limit']};w={policy_window_s}"
    if not tightest["allowed"]:
        headers["Retry-After"] = str(max(1, -(-int(tightest["retry_after_ms"]) // 1000)))
    return headers


def answer(
    verdict: Verdict,
    outcome: Outcome,
    limits: list[dict[str, Any]],
    anomalies: list[dict[str, Any]],
    incident: str | None,
) -> dict[str, Any]:
    tightest = tightest_of(limits)
    rate_limit = None
    if tightest is not None:
        rate_limit = {
            "limit": tightest["limit"],
            "remaining": tightest["remaining"],
            "reset_s": -(-int(tightest["reset_ms"]) // 1000),
            "rule": tightest["rule"],
        }
    return {
        "action": outcome.action,
        "score": verdict.score,
        "reasons": outcome.reasons or [],
        "threats": [
            {
                "type": t.type,
                "location": t.location,
                "rule": t.rule,
                "score": t.score,
                "evidence": t.evidence,
            }
            for t in verdict.threats
        ],
        "rate_limit": rate_limit,
        "headers": rate_limit_headers(tightest, tightest.get("window_s") if tightest else None),
        "anomalies": anomalies,
        "incident": incident,
    }


def blocked_answer(block: dict[str, Any], now_ms: int) -> dict[str, Any]:
    headers = {}
    if block.get("expires_ms"):
        headers["Retry-After"] = str(max(1, -(-(int(block["expires_ms"]) - now_ms) // 1000)))
    return {
        "action": "block",
        "score": 0,
        "reasons": [f"source is blocked ({block['source']}): {block.get('reason', '')}"],
        "threats": [],
        "rate_limit": None,
        "headers": headers,
        "anomalies": [],
        "incident": block.get("incident"),
    }
