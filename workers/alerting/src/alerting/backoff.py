"""When to try a failed notification again: exponential backoff with jitter, or Retry-After.

Retryable failures are 429, 5xx and network errors (the providers' own guidance: PagerDuty
Events v2, Slack webhooks, OTLP). The n-th retry waits `base x 2^(n-1)`, capped, scaled by a
jitter factor in [0.5, 1) so that many notifications failing together do not retry together
("equal jitter"). The jitter is derived from the notification id and attempt number rather than
a random generator, so it spreads retries just as well and a replayed schedule is exact. A
`Retry-After` answer (seconds or an HTTP date) is honoured: the retry waits at least that long.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True)
class Backoff:
    base_ms: int = 5_000
    cap_ms: int = 600_000
    max_attempts: int = 8

    def delay_ms(self, key: str, attempt: int, retry_after_s: float | None = None) -> int:
        """Wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed."""
        exponential = min(self.cap_ms, self.base_ms * 2 ** max(0, attempt - 1))
        delay = int(exponential * (0.5 + 0.5 * jitter(key, attempt)))
        if retry_after_s is not None:
            delay = max(delay, int(min(retry_after_s, MAX_RETRY_AFTER_S) * 1000))
        return max(1, delay)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


def jitter(key: str, attempt: int) -> float:
    """A stable fraction in [0, 1) for this notification and attempt."""
    digest = hashlib.blake2b(f"{key}:{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(min(int(text), int(MAX_RETRY_AFTER_S)))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min(when.timestamp() - now_s, MAX_RETRY_AFTER_S))
