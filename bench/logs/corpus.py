"""Realistic log records for the benchmarks: service logs with ids, timings, some PII."""

from __future__ import annotations

import random
from typing import Any

SERVICES = ["api", "billing", "web", "auth", "search", "media", "notify", "worker"]
LEVELS = ["debug"] * 10 + ["info"] * 70 + ["warning"] * 12 + ["error"] * 7 + ["critical"]
WORDS = [
    "pitch",
    "deck",
    "upload",
    "render",
    "cache",
    "miss",
    "hit",
    "queue",
    "retry",
    "timeout",
    "connection",
    "reset",
    "payment",
    "declined",
    "accepted",
    "session",
    "user",
    "project",
    "studio",
    "producer",
    "writer",
    "genre",
    "budget",
    "review",
    "comment",
    "invite",
    "share",
    "export",
    "thumbnail",
    "transcode",
    "stream",
]


def message(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return (
            f"GET /api/pitches/{rng.randint(1, 99999)} {rng.choice([200, 200, 200, 404, 500])}"
            f" in {rng.randint(1, 900)}ms"
        )
    if kind < 0.5:
        user = f"user{rng.randint(1, 5000)}@example.com"
        return f"payment {rng.randint(1000, 99999)} declined for {user}"
    if kind < 0.6:
        return (
            f"connection timeout to db-{rng.choice(['primary', 'replica'])} after "
            f"{rng.randint(1, 30)}s (attempt {rng.randint(1, 5)})"
        )
    if kind < 0.7:
        return f"session started from 203.0.113.{rng.randint(1, 254)} token={rng.getrandbits(64):x}"
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
    return f"{words} id={rng.getrandbits(48):x}"


def record(rng: random.Random, ts_ms: int) -> dict[str, Any]:
    trace = f"{rng.getrandbits(128):032x}" if rng.random() < 0.5 else None
    return {
        "timestamp": ts_ms,
        "level": rng.choice(LEVELS),
        "service": rng.choice(SERVICES),
        "message": message(rng),
        "trace_id": trace,
        "attributes": {
            "http": {"route": "/api/pitches/{id}", "status": rng.choice([200, 404])},
            "region": rng.choice(["eu", "us", "ap"]),
        },
    }
