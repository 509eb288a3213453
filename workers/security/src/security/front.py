"""The isolate's front: checks that need nothing from a Durable Object are answered here.

Most checks are benign requests from known sources well inside their rate limits. For those
the isolate decides the sliding-window limits on its own copy of the shard's counters (the
state the shard sent back last time, plus what this isolate admitted since) and queues the
check's shard work - counting, behaviour profiles, tallies - to go after the response
(`waitUntil`) in batches: one RPC per shard per batch instead of one per check. Cloudflare's
own rate limiting binding works the same way (decided in the isolate, synced asynchronously).
What that costs, exactly:

- With one isolate, a decision is the shard's: the copy is the shard's state plus every
  admission since, and a check goes to the shard (after what is queued) whenever the copy is
  missing, would deny, or would leave less than a tenth of the limit.
- With several isolates, each may admit, before its copy meets the others' counts, what the
  others admitted since its last batch; the margin of a tenth absorbs that at ordinary rates.
  Rules that must be exact (`"mode": "exact"`) always go to the shard.
- Threats, blocks, allow-listed sources: always the shard, in the check (events, incidents and
  blocks act before the answer leaves).
- Behavioural anomalies of queued checks are found when their batch reaches the shard (within
  `flush_s`), recorded as events and acted on then; they are not in that check's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from obs_schema import host
from security import edge, responder, shards
from security.limit.window import CounterState, roll, sliding_counter
from security.policy import scoring
from security.telemetry import Telemetry

log = logging.getLogger("obs.security")

FLUSH_S = 0.05  # the longest a queued check waits for its batch
FLUSH_AT = 512  # or this many queued checks, whichever comes first
MARGIN = 0.1  # of the limit: closer than this, the shard decides
MAX_COPIES = 50_000

Key = tuple[str, str]  # (rule id, client key)


@dataclass(slots=True)
class Copy:
    window_ms: int
    state: CounterState


@dataclass(slots=True)
class Queued:
    """One check answered here: its bundle per shard, and the shard that records it."""

    ip_index: int
    bundles: dict[int, dict[str, Any]]
    request: dict[str, Any]  # ip, path, route, user_id: for events other shards' anomalies make


@dataclass
class Front:
    copies: dict[Key, Copy] = field(default_factory=dict)
    queue: list[Queued] = field(default_factory=list)
    # Admission times per key since the queue was last sent, replayed onto the shard's answer.
    pending: dict[Key, list[int]] = field(default_factory=dict)
    subjects: set[str] = field(default_factory=set)  # "ip=..", "user=.." with queued work
    held: dict[Key, int] = field(default_factory=dict)  # counters a shard is deciding on now
    sending: set[Key | str] = field(default_factory=set)  # keys and subjects of the batch out
    # Keys the shard refused: (retry at, window reset at, the refusal), in epoch ms.
    refusals: dict[Key, tuple[int, int, dict[str, Any]]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    full: asyncio.Event = field(default_factory=asyncio.Event)
    flusher: bool = False


_fronts: dict[int, tuple[Any, Front]] = {}


def of(env: Any) -> Front:
    """This isolate's front for `env` (keyed by the shard binding: one per local stack)."""
    binding = getattr(env.SHARDS, "_target", env.SHARDS)  # behind obs_schema's timing proxy
    slot = _fronts.get(id(binding))
    if slot is None or slot[0] is not binding:
        slot = _fronts[id(binding)] = (binding, Front())
    return slot[1]


# --- deciding here (pure) -------------------------------------------------------------------
def decide(front: Front, items: list[dict[str, Any]], now_ms: int) -> list[dict[str, Any]] | None:
    """Every limit of a check decided here, or None if the shard must decide: on the copies,
    or - for a key the shard refused until a moment still to come - refused again."""
    trials: list[tuple[Copy, CounterState, Key]] = []
    decided = []
    for item in items:
        rule = item["rule"]
        key: Key = (str(rule["id"]), str(item["key"]))
        window_ms, limit = int(rule["window_s"]) * 1000, int(rule["limit"])
        refused = _refused(front, key, now_ms)
        if refused is not None:
            decided.append(refused)
            continue
        copy = front.copies.get(key)
        if rule.get("mode") == "exact" or copy is None or copy.window_ms != window_ms:
            return None
        if key in front.held:  # its shard is deciding a check on it: queue behind that
            return None
        state = copy.state
        trial = CounterState(state.window_start_ms, state.current, state.previous)
        decision = sliding_counter(trial, now_ms, limit, window_ms)
        if not decision.allowed or decision.remaining < limit * MARGIN:
            return None
        trials.append((copy, trial, key))
        decided.append(
            {
                "rule": key[0],
                "key": key[1],
                "window_s": int(rule["window_s"]),
                "allowed": True,
                "limit": limit,
                "remaining": decision.remaining,
                "reset_ms": decision.reset_ms,
                "retry_after_ms": 0,
            }
        )
    for copy, trial, key in trials:
        copy.state = trial
        front.pending.setdefault(key, []).append(now_ms)
    return decided


def _refused(front: Front, key: Key, now_ms: int) -> dict[str, Any] | None:
    """The shard's refusal of `key`, while it holds. A refusal says when one more request could
    be admitted at the earliest; other isolates can only add to the count, never move that
    moment closer, so refusing here until then is exactly what the shard would answer."""
    found = front.refusals.get(key)
    if found is None:
        return None
    until_ms, reset_at_ms, denied = found
    if now_ms >= until_ms:
        del front.refusals[key]
        return None
    return {
        **denied,
        "remaining": 0,
        "reset_ms": max(0, reset_at_ms - now_ms),
        "retry_after_ms": until_ms - now_ms,
    }


def rebase(front: Front, key: Key, window_ms: int, state: CounterState) -> None:
    """The shard's counter, plus what this isolate admitted that the shard has not seen.

    Answers can arrive out of the order the shard gave them (a batch and a check in flight
    together): a counter only moves forward, so the copy keeps whichever is further along."""
    for at in front.pending.get(key, ()):
        roll(state, at, window_ms)
        state.current += 1
    copy = front.copies.get(key)
    if copy is not None and copy.window_ms == window_ms and _ahead(copy.state, state):
        return
    if len(front.copies) >= MAX_COPIES and key not in front.copies:
        front.copies.clear()  # the shards hold the truth; a missing copy only costs an RPC
    front.copies[key] = Copy(window_ms, state)


def _ahead(a: CounterState, b: CounterState) -> bool:
    return (a.window_start_ms, a.current) > (b.window_start_ms, b.current)


def hold(front: Front, items: list[dict[str, Any]]) -> list[Key]:
    """Mark counters a shard is about to decide on: this isolate stops deciding on them until
    the shard's answer (and its state) is back, so the two never both admit the last request."""
    keys = [(str(i["rule"]["id"]), str(i["key"])) for i in items]
    for key in keys:
        front.held[key] = front.held.get(key, 0) + 1
    return keys


def release(front: Front, keys: list[Key]) -> None:
    for key in keys:
        left = front.held.get(key, 0) - 1
        if left > 0:
            front.held[key] = left
        else:
            front.held.pop(key, None)


def seed(front: Front, limits: list[dict[str, Any]], now_ms: int) -> None:
    """Copies from a check the shard decided (its answer carries the counter's state), and
    its refusals, which hold until their retry time."""
    for decided in limits:
        if not decided["allowed"]:
            if len(front.refusals) >= MAX_COPIES:
                front.refusals.clear()
            front.refusals[(str(decided["rule"]), str(decided["key"]))] = (
                now_ms + int(decided["retry_after_ms"]),
                now_ms + int(decided["reset_ms"]),
                {k: decided[k] for k in ("rule", "key", "window_s", "allowed", "limit")},
            )
        state = decided.get("state")
        if state is not None:
            window_ms = int(decided["window_s"]) * 1000
            rebase(
                front, (str(decided["rule"]), str(decided["key"])), window_ms, CounterState(*state)
            )


# --- the queue and its batches ------------------------------------------------------------
def enqueue(
    env: Any, telemetry: Telemetry, front: Front, queued: Queued, subjects: tuple[str, ...]
) -> None:
    for bundle in queued.bundles.values():
        bundle["admitted"] = True  # its limits were decided here: the shard only counts them
        for name in ("thresholds", "scoring", "events"):  # defaults: less to copy per RPC
            if not bundle.get(name):
                bundle.pop(name, None)
    front.queue.append(queued)
    front.subjects.update(subjects)
    if len(front.queue) >= FLUSH_AT:
        front.full.set()
    if not front.flusher:
        front.flusher = True
        host.defer(_flush_soon(env, telemetry, front))


async def _flush_soon(env: Any, telemetry: Telemetry, front: Front) -> None:
    with contextlib.suppress(TimeoutError):  # a full queue goes at once, the rest in time
        await asyncio.wait_for(front.full.wait(), flush_s(env))
    front.flusher = False  # checks queued from here on start the next batch
    await flush(env, telemetry, front)


def flush_s(env: Any) -> float:
    try:
        return max(0.0, float(getattr(env, "SECURITY_FLUSH_MS", FLUSH_S * 1000)) / 1000)
    except (TypeError, ValueError):
        return FLUSH_S


def behind(front: Front, items: list[dict[str, Any]], subjects: tuple[str, ...]) -> bool:
    """Whether queued work concerns this check's counters or subjects: then it must reach the
    shards before the check does (a new source's first check need not wait for the batch).
    A batch on its way counts too: its keys have left `pending` but not yet arrived."""
    for subject in subjects:
        if subject in front.subjects or subject in front.sending:
            return True
    for item in items:
        key = (str(item["rule"]["id"]), str(item["key"]))
        if key in front.pending or key in front.sending:
            return True
    return False


async def flush(env: Any, telemetry: Telemetry, front: Front, only: set[int] | None = None) -> None:
    """Send what is queued (for the shards in `only`, or all), one call per shard; act on
    what the shards found. Each shard still receives its checks in answering order."""
    async with front.lock:  # a batch at a time, so each shard counts in answering order
        queue = _take(front, only)
        if not queue:
            return
        by_shard: dict[int, list[dict[str, Any]]] = {}
        for queued in queue:
            for index, bundle in queued.bundles.items():
                by_shard.setdefault(index, []).append(bundle)
        sent = _take_pending(env, front, only)
        indexes = list(by_shard)
        try:
            replies = await asyncio.gather(
                *(shards.stub(env, i).check_many(by_shard[i]) for i in indexes),
                return_exceptions=True,
            )
        finally:
            front.sending = set()
        answers = _answers(front, indexes, replies, sent)
    await _act(env, telemetry, queue, answers)


def _take(front: Front, only: set[int] | None) -> list[Queued]:
    if only is None:
        queue, front.queue = front.queue, []
        front.full.clear()
        return queue
    taken, kept = [], []
    for queued in front.queue:
        out = {i: b for i, b in queued.bundles.items() if i in only}
        rest = {i: b for i, b in queued.bundles.items() if i not in only}
        if out:
            taken.append(Queued(queued.ip_index, out, queued.request))
        if rest:
            kept.append(Queued(queued.ip_index, rest, queued.request))
    front.queue = kept
    if len(kept) < FLUSH_AT:
        front.full.clear()
    return taken


def _take_pending(env: Any, front: Front, only: set[int] | None) -> dict[Key, list[int]]:
    """The admissions (and subjects) now on their way: they leave `pending` for `sending`."""
    if only is None:
        sent = front.pending
        subjects = front.subjects
        front.pending, front.subjects = {}, set()
    else:
        sent = {k: t for k, t in front.pending.items() if shards.index_of(env, k[1]) in only}
        subjects = {s for s in front.subjects if shards.index_of(env, s) in only}
        for key in sent:
            del front.pending[key]
        front.subjects -= subjects
    front.sending = {*sent, *subjects}
    return sent


Answers = dict[int, dict[int, dict[str, Any]]]  # shard -> position in its batch -> answer


def _answers(
    front: Front, indexes: list[int], replies: list[Any], sent: dict[Key, list[int]]
) -> Answers:
    answers: Answers = {}
    for index, reply in zip(indexes, replies, strict=True):
        if isinstance(reply, BaseException):
            # Monitoring never breaks what it observes: the batch's counting is lost, the
            # copies keep what this isolate admitted.
            log.warning("security shard unavailable for a batch: %s", type(reply).__name__)
            for key, times in sent.items():
                front.pending.setdefault(key, [])[:0] = times
            continue
        answers[index] = {int(position): answer for position, answer in reply["answers"]}
        for rule_id, key, window_ms, start, current, previous in reply["counters"]:
            rebase(front, (rule_id, key), window_ms, CounterState(start, current, previous))
    return answers


async def _act(
    env: Any,
    telemetry: Telemetry,
    queue: list[Queued],
    answers: Answers,
) -> None:
    """Anomalies found by other shards become events of the source's; incidents are acted on."""
    if not any(answers.values()):  # the usual batch: nothing found anywhere
        return
    position: dict[int, int] = {}
    incidents: list[dict[str, Any]] = []
    forwarded: dict[int, list[dict[str, Any]]] = {}
    for queued in queue:
        for index, bundle in queued.bundles.items():
            n = position.get(index, 0)
            position[index] = n + 1
            answer = answers[index].get(n) if index in answers else None
            if answer is None:  # the shard found nothing, or could not be reached
                continue
            for anomaly in answer["anomalies"]:
                telemetry.anomalies.labels(type=anomaly["type"]).inc()
            if index == queued.ip_index:
                incidents += answer["incidents"]
            else:
                forwarded.setdefault(queued.ip_index, []).extend(
                    forwarded_event(a, queued.request, int(bundle["now_ms"]))
                    for a in answer["anomalies"]
                )
    if not incidents and not forwarded:
        return
    policy, _ = await edge.current(env)
    for index, events in forwarded.items():
        recorded = await shards.stub(env, index).record(
            {"now_ms": events[-1]["time_ms"], "events": events, "scoring": scoring(policy)}
        )
        incidents += recorded["incidents"]
    await responder.respond(env, incidents, policy, telemetry, host.now_ms())


def forwarded_event(
    anomaly: dict[str, Any], request: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    """An anomaly another shard found (a user's, an account's), as an event of the source."""
    return {
        "type": anomaly["type"],
        "ip": request["ip"],
        "user_id": request.get("user_id"),
        "route": request.get("route") or request.get("path"),
        "score": anomaly["score"],
        "action": "allow",
        "evidence": anomaly["detail"],
        "time_ms": now_ms,
    }
