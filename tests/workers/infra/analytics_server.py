"""A local HTTP server standing in for Cloudflare's GraphQL Analytics API.

It answers each POST with the next scripted `(status, JSON body)` and records what it was sent.
Threads are fine here: this is test code, not Worker code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.receiver import QuietHandler, serving


@dataclass
class AnalyticsServer:
    url: str = ""
    answers: list[tuple[int, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def analytics_server() -> Iterator[AnalyticsServer]:
    state = AnalyticsServer()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append({"path": self.path, "headers": headers, "json": json.loads(body)})
            status, answer = state.answers.pop(0) if state.answers else (200, {"data": None})
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    with serving(Handler) as url:
        state.url = url + "/client/v4/graphql"
        yield state
