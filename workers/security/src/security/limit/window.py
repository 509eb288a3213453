"""The two counting algorithms, as pure functions over small state records.

*Sliding window counter* (Cloudflare's and nginx's approach): a count for the current fixed
window and one for the previous; the previous is weighted by how much of it still overlaps
the sliding window. Two integers per key, O(1) per decision, and within a few percent of
exact for steady traffic - but it can admit a little more or less than the limit when traffic
is bursty at a window edge. *Sliding log* (the exact mode): one timestamp per admitted
request, so a key costs up to `limit` entries; exact, meant for small limits (logins, OTPs).

A denied request is not counted: a client that backs off regains its quota on schedule.
Times are integer milliseconds so decisions are reproducible under a fake clock.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass(slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int  # until the window that decides this key has rolled over
    retry_after_ms: int  # 0 when allowed: otherwise until one more request would be admitted


@dataclass(slots=True)
class CounterState:
    window_start_ms: int = 0
    current: int = 0
    previous: int = 0


@dataclass(slots=True)
class LogState:
    times_ms: list[int] = field(default_factory=list)


def roll(state: CounterState, now_ms: int, window_ms: int) -> None:
    start = now_ms - now_ms % window_ms
    if start == state.window_start_ms:
        return
    # The window just before `start` is the new "previous" only if it is the one we counted.
    state.previous = state.current if start - state.window_start_ms == window_ms else 0
    state.current = 0
    state.window_start_ms = start


def sliding_counter(
    state: CounterState, now_ms: int, limit: int, window_ms: int, cost: int = 1
) -> Decision:
    """Admit `cost` requests if the weighted count stays within `limit`; update `state`."""
    roll(state, now_ms, window_ms)
    elapsed = now_ms - state.window_start_ms
    weight = (window_ms - elapsed) / window_ms
    estimate = state.previous * weight + state.current
    reset = window_ms - elapsed
    if estimate + cost <= limit:
        state.current += cost
        remaining = max(0, math.floor(limit - estimate - cost))
        return Decision(True, limit, remaining, reset, 0)
    retry = _counter_retry(state, elapsed, limit, window_ms, cost)
    return Decision(False, limit, 0, reset, retry)


def _counter_retry(state: CounterState, elapsed: int, limit: int, window_ms: int, cost: int) -> int:
    """Milliseconds until `previous * weight + current + cost <= limit` holds again."""
    room = limit - cost - state.current  # what the previous window's share must fall to
    if room >= 0 and state.previous > 0:
        # previous * (window - t) / window <= room  =>  t >= window * (1 - room / previous)
        at = -(-window_ms * (state.previous - room) // state.previous)  # exact ceil
        if at < window_ms:
            return max(1, at - elapsed)
    # Next window: the current count becomes the decaying previous one.
    room_next = limit - cost
    if state.current <= room_next:
        return window_ms - elapsed
    at_next = -(-window_ms * (state.current - room_next) // state.current)
    return window_ms - elapsed + at_next


def sliding_log(
    state: LogState, now_ms: int, limit: int, window_ms: int, cost: int = 1
) -> Decision:
    """Exact: admit if fewer than `limit` admitted requests lie in (now - window, now]."""
    times = state.times_ms
    cut = bisect_right(times, now_ms - window_ms)
    if cut:
        del times[:cut]
    if len(times) + cost <= limit:
        times.extend([now_ms] * cost)
        reset = times[0] + window_ms - now_ms
        return Decision(True, limit, limit - len(times), reset, 0)
    # The request is admitted once enough of the oldest entries have left the window.
    needed = len(times) + cost - limit
    oldest_to_leave = times[needed - 1] if needed <= len(times) else times[-1]
    retry = oldest_to_leave + window_ms - now_ms  # it leaves at exactly t + window
    return Decision(False, limit, 0, times[0] + window_ms - now_ms, max(1, retry))
