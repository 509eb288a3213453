"""DNS checks over DNS-over-HTTPS (JSON API, `application/dns-json`), since Workers have no UDP.

The resolver is asked for `query`/`record_type`; the check passes when the answer is NOERROR and
holds a record of that type, and, if `expected` is set, one whose data equals it (names compare
without the trailing dot and case; TXT without its quotes).
"""

from __future__ import annotations

import json
from typing import Any

from monitoring.probes import ProbeContext, http
from monitoring.state import Outcome

DEFAULT_RESOLVER = "https://cloudflare-dns.com/dns-query"
RECORD_TYPES = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
    "AAAA": 28, "SRV": 33, "CAA": 257,
}  # fmt: skip
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def normalise(record_type: str, data: str) -> str:
    text = data.strip()
    if record_type == "TXT":
        return text.replace('" "', "").strip('"')
    return text.rstrip(".").lower() if record_type != "CAA" else text


def judge(answer: dict[str, Any], record_type: str, expected: str | None) -> str | None:
    """Why a DoH JSON answer fails the check, or None."""
    status = answer.get("Status")
    if status != 0:
        return f"resolver answered {RCODES.get(status, status)}"  # type: ignore[arg-type]
    wanted = RECORD_TYPES[record_type]
    found = [
        normalise(record_type, str(record.get("data", "")))
        for record in answer.get("Answer") or []
        if isinstance(record, dict) and record.get("type") == wanted
    ]
    if not found:
        return f"no {record_type} record in the answer"
    if expected is not None and normalise(record_type, expected) not in found:
        shown = ", ".join(found[:5])
        return f"{record_type} records are {shown}, expected {expected}"
    return None


async def probe(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    record_type = str(spec.get("record_type", "A"))
    resolver = str(spec.get("resolver") or DEFAULT_RESOLVER)
    request: dict[str, Any] = {
        "url": resolver,
        "method": "GET",
        "headers": {"accept": "application/dns-json"},
    }
    if (refusal := http.refused(resolver, context)) is not None:
        return refusal
    query = {"name": spec["query"], "type": record_type}
    response, body, latency = await http.fetch({**request, "params": query}, context)
    if response.status_code != 200:
        error = f"resolver answered HTTP {response.status_code}"
        return Outcome(ok=False, latency_ms=latency, error=error)
    try:
        answer = json.loads(body)
    except ValueError:
        return Outcome(ok=False, latency_ms=latency, error="resolver answer is not DNS JSON")
    problem = judge(answer if isinstance(answer, dict) else {}, record_type, spec.get("expected"))
    return Outcome(ok=problem is None, latency_ms=latency, error=problem, status_code=200)
