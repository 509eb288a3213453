"""Threat intelligence: IP/CIDR blocklists kept in R2, compiled for the edge on a schedule.

Operators (or a sync job) put list files under `blocklists/` in the INTEL bucket - plain IPs
and CIDRs, one per line, `#`/`;` comments, as FireHOL and Spamhaus DROP publish them. The
cron compiles every list into one prefix set and publishes it to KV, where each isolate
loads it; a check then matches the client address by prefix in microseconds.
"""

from __future__ import annotations

import re
from typing import Any

from security import edge
from security.respond.prefixes import compile_lists
from security.telemetry import Telemetry

PREFIX = "blocklists/"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_LIST_BYTES = 16 * 1024 * 1024


async def list_names(bucket: Any) -> list[str]:
    names, cursor = [], None
    while True:
        page = (
            await bucket.list(prefix=PREFIX, cursor=cursor)
            if cursor
            else await bucket.list(prefix=PREFIX)
        )
        names += [obj.key.removeprefix(PREFIX) for obj in page["objects"]]
        if not page["truncated"]:
            return names
        cursor = page["cursor"]


async def reload(env: Any, telemetry: Telemetry | None) -> list[dict[str, Any]]:
    """Compile every list in the bucket and publish the result; returns what each held."""
    bucket = env.INTEL
    texts = []
    for name in await list_names(bucket):
        obj = await bucket.get(PREFIX + name)
        if obj is not None:
            texts.append((name, await obj.text()))
    compiled, summary = compile_lists(texts)
    await edge.publish_intel(env, compiled, summary)
    if telemetry is not None:
        telemetry.intel_networks.set(len(compiled))
    return summary
