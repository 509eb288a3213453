"""Shared pieces of the monitoring Worker's tests: tokens, the start instant, a local target
server a test scripts, and small HTTP helpers."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.receiver import QuietHandler, serving

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "workers" / "monitoring" / "src"
if str(SOURCE) not in sys.path:
    sys.path.insert(0, str(SOURCE))

TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}
READ = {"authorization": "Bearer r-tok"}
ADMIN = {"authorization": "Bearer a-tok"}
# 2026-03-02T00:00:00Z, a Monday: scripted histories start on a clean minute and day.
START = datetime(2026, 3, 2, tzinfo=UTC).timestamp()


@dataclass
class Target:
    """A local HTTP server standing in for a Pitchey service; tests flip its health."""

    url: str
    status: int = 200
    body: bytes = b'{"status": "ok"}'
    content_type: str = "application/json"
    delay_s: float = 0.0
    hits: list[str] = field(default_factory=list)


@contextmanager
def serve_target() -> Iterator[Target]:
    state = Target(url="")

    class Handler(QuietHandler):
        def _answer(self) -> None:
            state.hits.append(self.path)
            if state.delay_s:
                time.sleep(state.delay_s)
            self.send_response(state.status)
            self.send_header("content-type", state.content_type)
            self.send_header("content-length", str(len(state.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(state.body)

        do_GET = do_POST = do_HEAD = do_PUT = _answer

    with serving(Handler) as url:
        state.url = url
        yield state
