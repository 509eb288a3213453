"""`/security/check`: one request in, one decision out.

Order of business: an allow-listed source skips enforcement; a blocked one (its KV block
entry, a ledger prefix, a threat-intelligence list) is refused without further work; anything
else is inspected by the detector and counted by the rate-limit rules in the shards that own
its keys, and its behaviour is fed to the anomaly detectors. Events and incidents are recorded
in the source's shard in the same call; incidents that cross a line are acted on before the
answer leaves, so the caller's next request already meets the block.

A check without threats whose limits the isolate can decide on its copies of the counters is
answered without waiting for a shard: its shard work is batched (security.front).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from typing import Any

from security import edge, front, responder, shards
from security.answer import Outcome, answer, blocked_answer
from security.detect.engine import Verdict
from security.detect.request import HttpRequest, iter_header_pairs
from security.limit.rules import LimitRule, Subject, key_for, matching
from security.policy import Policy, scoring, thresholds
from security.telemetry import Telemetry

log = logging.getLogger("obs.security")


async def check(
    env: Any, body: dict[str, Any], telemetry: Telemetry, now_ms: int
) -> dict[str, Any]:
    policy, detector = await edge.current(env)
    ip = body["ip"]
    headers = tuple(iter_header_pairs(body.get("headers") or {}))
    request = HttpRequest(
        body.get("method", "GET").upper(),
        body.get("path", "/"),
        body.get("query", ""),
        headers,
        body.get("body", ""),
        ip,
    )
    outcome = Outcome()
    lists = await edge.lists(env)
    allowed = lists.allow.match(ip)
    allow_entry = lists.active(allowed[1], now_ms) if allowed else None
    if allow_entry is None:
        block = await _existing_block(env, ip, lists, now_ms)
        if block is not None:
            telemetry.blocked_requests.labels(source=block["source"]).inc()
            telemetry.checks.labels(action="block").inc()
            return blocked_answer(block, now_ms)
    verdict = detector.inspect(request)
    if allow_entry is None:
        _score(verdict, policy, outcome, telemetry)
    else:  # allow-listed: inspected and recorded, never challenged, limited or blocked
        outcome.escalate("allow", f"source is allow-listed: {allow_entry.get('reason', '')}")
    route = body.get("route") or body.get("path", "/")
    subject = Subject(
        ip=ip, user=body.get("user_id"), token=_bearer(headers), route=route, headers=headers
    )
    bundles = _bundles(env, policy, subject, request.method, body, allow_entry is not None, now_ms)
    ip_index = shards.index_of(env, f"ip={ip}")
    own_request = {"ip": ip, "path": request.path, "route": route, "user_id": body.get("user_id")}
    local = front.of(env)
    items = [i for b in bundles.values() for i in b["limits"]]
    subjects = (f"ip={ip}", f"user={body['user_id']}") if body.get("user_id") else (f"ip={ip}",)
    if allow_entry is None and not verdict.threats:
        decided = front.decide(local, items, now_ms)
        if decided is not None:  # answered here; the shards' work goes in the next batch
            bundles.setdefault(ip_index, _bundle(now_ms, policy))
            _queue(env, local, telemetry, bundles, ip_index, own_request, subjects, decided)
            _limits(decided, outcome, telemetry)
            telemetry.checks.labels(action=outcome.action).inc()
            return answer(verdict, outcome, decided, [], None)
    held = front.hold(local, items)  # no decision here on these counters meanwhile
    try:
        if front.behind(local, items, subjects):  # the shards count what was queued first
            await front.flush(env, telemetry, local, {*bundles, ip_index})
        limits, forwarded, mine = await _through_shards(
            env, bundles, ip_index, own_request, verdict, outcome, now_ms, policy
        )
        front.seed(local, limits, now_ms)
    finally:
        front.release(local, held)
    anomalies = forwarded + mine["anomalies"]
    for anomaly in anomalies:
        telemetry.anomalies.labels(type=anomaly["type"]).inc()
    _limits(limits, outcome, telemetry)
    incidents = [] if allow_entry is not None else mine["incidents"]
    blocks = await responder.respond(env, incidents, policy, telemetry, now_ms)
    if blocks:
        outcome.escalate("block", f"source blocked: {blocks[0]['reason']}")
    telemetry.checks.labels(action=outcome.action).inc()
    incident = mine["incidents"][0]["id"] if mine["incidents"] else None
    return answer(verdict, outcome, limits, anomalies, incident)


def _queue(
    env: Any,
    local: front.Front,
    telemetry: Telemetry,
    bundles: dict[int, dict[str, Any]],
    ip_index: int,
    request: dict[str, Any],
    subjects: tuple[str, ...],
    decided: list[dict[str, Any]],
) -> None:
    """A check answered here, queued for its shards: refused requests are not counted (as the
    shard never counts them), only tallied; behaviour sees every request."""
    refused = {(d["rule"], d["key"]) for d in decided if not d["allowed"]}
    if refused:
        for bundle in bundles.values():
            bundle["limits"] = [
                i for i in bundle["limits"] if (i["rule"]["id"], i["key"]) not in refused
            ]
    own = bundles[ip_index]
    own.update(request=request, events=[], record=True)
    own["tally"] = {"checks": 1, "rate_limited": int(bool(refused))}
    front.enqueue(env, telemetry, local, front.Queued(ip_index, bundles, request), subjects)


async def _through_shards(
    env: Any,
    bundles: dict[int, dict[str, Any]],
    ip_index: int,
    request: dict[str, Any],
    verdict: Verdict,
    outcome: Outcome,
    now_ms: int,
    policy: Policy,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The shards decide and record: the other keys' shards first, then the source's, which
    also stores the events (its own and what the others found) and correlates incidents."""
    first = {i: b for i, b in bundles.items() if i != ip_index}
    results = await asyncio.gather(
        *(shards.stub(env, i).check(b) for i, b in first.items()), return_exceptions=True
    )
    answers = {i: _or_unavailable(r, outcome) for i, r in zip(first, results, strict=True)}
    forwarded = [a for answer in answers.values() for a in answer["anomalies"]]
    limits = [d for answer in answers.values() for d in answer["limits"]]
    own = bundles.get(ip_index) or _bundle(now_ms, policy)
    own.update(
        request=request,
        events=_detection_events(verdict, request, outcome, now_ms)
        + [front.forwarded_event(a, request, now_ms) for a in forwarded],
    )
    own["tally"] = {
        "checks": 1,
        "threats": len(verdict.threats),
        "rate_limited": int(any(not d["allowed"] for d in limits)),
    }
    try:
        mine = await shards.stub(env, ip_index).check(own)
    except Exception as error:  # monitoring never breaks what it observes: fail open
        mine = _or_unavailable(error, outcome)
    return limits + mine["limits"], forwarded, mine


async def _existing_block(
    env: Any, ip: str, lists: edge.Lists, now_ms: int
) -> dict[str, Any] | None:
    exact = await edge.ip_block(env, ip, now_ms)
    if exact is not None:
        return exact
    prefix = lists.block.match(ip)
    entry = lists.active(prefix[1], now_ms) if prefix else None
    if entry is not None:
        return {**entry, "network": prefix[0] if prefix else None}
    intel, _ = await edge.intel(env)
    listed = intel.match(ip)
    if listed is not None:
        return {
            "id": None,
            "source": "intel",
            "reason": f"listed in {listed[1]} ({listed[0]})",
            "expires_ms": None,
        }
    return None


EMPTY_ANSWER: dict[str, Any] = {"limits": [], "anomalies": [], "incidents": []}


def _or_unavailable(result: Any, outcome: Outcome) -> dict[str, Any]:
    """A shard's answer, or - if it failed - nothing, with the reason noted: the request is
    still inspected and answered; only its counting and recording are lost."""
    if isinstance(result, BaseException):
        log.warning("security shard unavailable: %s", type(result).__name__)
        if outcome.reasons is None or "state unavailable" not in " ".join(outcome.reasons):
            outcome.escalate("allow", "rate limiting and recording unavailable (state unavailable)")
        return dict(EMPTY_ANSWER)
    return dict(result)


def _score(verdict: Verdict, policy: Policy, outcome: Outcome, telemetry: Telemetry) -> None:
    for threat in verdict.threats:
        telemetry.threats.labels(type=threat.type).inc()
        telemetry.rules.labels(rule=threat.rule).inc()
    if not verdict.threats:
        return
    summary = f"anomaly score {verdict.score} ({', '.join(verdict.types)})"
    if verdict.score >= policy.detection.block_score:
        outcome.escalate(
            "block", f"{summary} reached the block score {policy.detection.block_score}"
        )
    elif verdict.score >= policy.detection.challenge_score:
        outcome.escalate(
            "challenge", f"{summary} reached the challenge score {policy.detection.challenge_score}"
        )


def _bundle(now_ms: int, policy: Policy) -> dict[str, Any]:
    return {
        "now_ms": now_ms,
        "limits": [],
        "thresholds": thresholds(policy),
        "scoring": scoring(policy),
        "record": True,
    }


def _bundles(
    env: Any,
    policy: Policy,
    subject: Subject,
    method: str,
    body: dict[str, Any],
    exempt: bool,
    now_ms: int,
) -> dict[int, dict[str, Any]]:
    bundles: dict[int, dict[str, Any]] = {}
    if not exempt:
        for rule in matching(policy.rate_limits, method, subject.route):
            key = key_for(rule, subject)
            if key is None:
                continue
            index = shards.index_of(env, key)
            bundles.setdefault(index, _bundle(now_ms, policy))["limits"].append(
                {"rule": _spec(rule), "key": key}
            )
    if body.get("user_id"):
        index = shards.index_of(env, f"user={body['user_id']}")
        bundles.setdefault(index, _bundle(now_ms, policy))["user_request"] = {
            "user_id": body["user_id"],
            "path": body.get("path", "/"),
            "route": body.get("route") or "",
        }
    if body.get("user_id") and (
        body.get("country") or body.get("asn") is not None or body.get("latitude") is not None
    ):
        index = shards.index_of(env, f"user={body['user_id']}")
        bundles.setdefault(index, _bundle(now_ms, policy))["location"] = {
            "user_id": body["user_id"],
            "country": body.get("country"),
            "asn": body.get("asn"),
            "lat": body.get("latitude"),
            "lon": body.get("longitude"),
        }
    ip_index = shards.index_of(env, f"ip={subject.ip}")
    for index, bundle in bundles.items():
        bundle["record"] = index == ip_index
    return bundles


@functools.lru_cache(maxsize=1024)
def _spec(rule: LimitRule) -> dict[str, Any]:
    """What a shard needs of a rule. One dict per rule, shared by every check's bundle: a batch
    crossing RPC copies each shared dict once. Nobody writes to it."""
    return {"id": rule.id, "limit": rule.limit, "window_s": rule.window_s, "mode": rule.mode}


def _detection_events(
    verdict: Verdict, request: dict[str, Any], outcome: Outcome, now_ms: int
) -> list[dict[str, Any]]:
    events = []
    for kind in verdict.types:
        matched = [t for t in verdict.threats if t.type == kind]
        events.append(
            {
                "type": kind,
                "ip": request["ip"],
                "user_id": request["user_id"],
                "route": request["route"],
                "score": sum(t.score for t in matched),
                "action": outcome.action,
                "time_ms": now_ms,
                "evidence": {
                    "request_score": verdict.score,
                    "matches": [
                        {
                            "rule": t.rule,
                            "location": t.location,
                            "score": t.score,
                            "excerpt": t.evidence,
                        }
                        for t in matched[:8]
                    ],
                },
            }
        )
    return events


def _limits(limits: list[dict[str, Any]], outcome: Outcome, telemetry: Telemetry) -> None:
    for denied in (d for d in limits if not d["allowed"]):
        telemetry.rate_limited.labels(rule=denied["rule"]).inc()
        outcome.escalate(
            "rate_limited",
            f"rate limit {denied['rule']}: {denied['limit']} requests per window exceeded",
        )


def _bearer(headers: tuple[tuple[str, str], ...]) -> str | None:
    for name, value in headers:
        if name == "authorization":
            kind, _, token = value.partition(" ")
            return token.strip() or None if kind.lower() == "bearer" else value
    return None


def account_key(account: str) -> str:
    """Login names are personal data: shards key and store only a digest."""
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:24]
