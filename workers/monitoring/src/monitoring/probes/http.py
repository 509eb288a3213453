"""HTTP(S) checks with `httpx.AsyncClient` (on Workers it rides the platform's fetch).

Pass/fail rules, in order: the request completes within the timeout, every hop (redirects
included) goes to an allowed host, the status is accepted, the keyword is present (or absent),
the JSON field assertion holds, the latency is under `max_latency_ms`. The latency is the full
exchange (connect, request, response body up to `MAX_BODY_BYTES`).
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpx

from monitoring import jsonfield, targets
from monitoring.probes import ProbeContext, ProbeFailure, elapsed_ms
from monitoring.state import Outcome

MAX_BODY_BYTES = 1024 * 1024
USER_AGENT = "PitcheyMonitoring/1.0 (+https://obs.pitchey.com/monitoring/status)"
DEFAULT_ACCEPTED = ("200-299",)


@functools.cache
def tls_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per isolate: building one loads the CA bundle, which costs milliseconds."""
    return httpx.create_ssl_context(verify=verify)


def status_accepted(code: int, accepted: Iterable[int | str]) -> bool:
    """Is `code` one of `accepted` (codes like 204, or ranges like "200-299")?"""
    for item in accepted:
        low, _, high = str(item).partition("-")
        if int(low) <= code <= int(high or low):
            return True
    return False


def _guard(allow_private: bool) -> Any:
    async def on_request(request: httpx.Request) -> None:
        if not allow_private and (why := targets.host_refusal(request.url.host)):
            raise ProbeFailure(f"target refused: {why}")

    return on_request


async def fetch(spec: dict[str, Any], context: ProbeContext) -> tuple[httpx.Response, bytes, float]:
    """Send the check's request; the response, its (capped) body and the latency in ms."""
    client = httpx.AsyncClient(
        timeout=context.timeout_s,
        follow_redirects=bool(spec.get("follow_redirects", True)),
        verify=tls_context(bool(spec.get("verify_tls", True))),
        trust_env=False,  # a check measures the target, never a proxy in between
        event_hooks={"request": [_guard(context.allow_private)]},
        headers={"user-agent": USER_AGENT},
    )
    started = time.perf_counter()
    try:
        async with (
            client,
            client.stream(
                str(spec.get("method", "GET")),
                str(spec["url"]),
                headers=dict(spec.get("headers") or {}),
                params=spec.get("params"),
                content=spec.get("body"),
            ) as response,
        ):
            body = await _read_capped(response)
    except httpx.TimeoutException:
        raise ProbeFailure(f"timed out after {context.timeout_s:g} s") from None
    except httpx.TooManyRedirects:
        raise ProbeFailure("too many redirects") from None
    except httpx.HTTPError as error:
        raise ProbeFailure(_transport_error(error)) from None
    return response, body, elapsed_ms(started)


async def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)[:MAX_BODY_BYTES]


def _transport_error(error: httpx.HTTPError) -> str:
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectError: "connection failed",
        httpx.RemoteProtocolError: "protocol error",
        httpx.ReadError: "read failed",
    }
    kind = kinds.get(type(error), "request failed")
    reason = str(error).strip()
    return f"{kind}: {reason[:200]}" if reason else kind


def judge(spec: dict[str, Any], status: int, body: bytes, latency_ms: float) -> str | None:
    """Why this response fails the check's assertions, or None when it passes."""
    accepted = spec.get("accepted_status") or DEFAULT_ACCEPTED
    if not status_accepted(status, accepted):
        return f"HTTP {status} (accepted: {', '.join(str(a) for a in accepted)})"
    text = body.decode("utf-8", errors="replace")
    keyword, absent = spec.get("keyword"), spec.get("keyword_absent")
    if keyword and keyword not in text:
        return f"keyword {keyword!r} not found in the response"
    if absent and absent in text:
        return f"keyword {absent!r} found in the response"
    if spec.get("json_assert") and (problem := jsonfield.check(text, spec["json_assert"])):
        return problem
    limit = spec.get("max_latency_ms")
    if limit is not None and latency_ms > float(limit):
        return f"latency {latency_ms:.0f} ms above the {float(limit):g} ms limit"
    return None


def refused(url: str, context: ProbeContext) -> Outcome | None:
    """A failed outcome when `url` points where this deployment may not look."""
    if not context.allow_private and (why := targets.url_refusal(url)):
        return Outcome(ok=False, error=f"target refused: {why}")
    return None


async def probe(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    if (refusal := refused(str(spec["url"]), context)) is not None:
        return refusal
    response, body, latency = await fetch(spec, context)
    problem = judge(spec, response.status_code, body, latency)
    return Outcome(
        ok=problem is None, latency_ms=latency, error=problem, status_code=response.status_code
    )
