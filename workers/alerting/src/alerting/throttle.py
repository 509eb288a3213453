"""Per-channel throttling: a token bucket per destination, sized to the provider's limits.

Providers publish how fast they take messages: Slack incoming webhooks about one per second
with short bursts, PagerDuty about 120 events per minute per integration key, Twilio one SMS
per second per sender number. A notification that would exceed its destination's bucket is not
dropped: it waits until a token is due, so the provider never answers 429 because of us.
"""

from __future__ import annotations

from dataclasses import dataclass

# (tokens per second, bucket size). PagerDuty: 60 + 60 s x 1/s stays within 120 a minute.
PROVIDER_LIMITS: dict[str, tuple[float, float]] = {
    "slack": (1.0, 3.0),
    "pagerduty": (1.0, 60.0),
    "sms": (1.0, 1.0),
    "email": (10.0, 20.0),
    "webhook": (50.0, 100.0),
}


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated_ms: int


@dataclass(frozen=True)
class Limit:
    rate_per_s: float
    burst: float

    def full(self, now_ms: int) -> Bucket:
        return Bucket(self.burst, now_ms)

    def take(self, bucket: Bucket | None, now_ms: int) -> tuple[Bucket, int]:
        """Spend one token: the new bucket and 0, or the unchanged bucket and the ms to wait."""
        current = self.refill(bucket, now_ms)
        if current.tokens >= 1.0:
            return Bucket(current.tokens - 1.0, now_ms), 0
        wait = (1.0 - current.tokens) / self.rate_per_s
        return current, max(1, int(wait * 1000 + 0.999))

    def refill(self, bucket: Bucket | None, now_ms: int) -> Bucket:
        if bucket is None:
            return self.full(now_ms)
        elapsed = max(0, now_ms - bucket.updated_ms) / 1000
        return Bucket(min(self.burst, bucket.tokens + elapsed * self.rate_per_s), now_ms)


def limit_for(channel: str, override: dict[str, float] | None = None) -> Limit:
    rate, burst = PROVIDER_LIMITS.get(channel, (10.0, 10.0))
    if override:
        rate = float(override.get("per_second", rate))
        burst = float(override.get("burst", burst))
    return Limit(rate, max(1.0, burst))
