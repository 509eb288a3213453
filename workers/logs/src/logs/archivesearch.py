"""Search of the R2 archive (`archive=true`): partitions of the window, newest hour first.

Partitions are read whole (they are at most a few MB), filtered with the same predicate as the
hot store's SQL, and the walk stops once a page is full. The window is capped: an archive
search reads objects, so a year-long scan is refused with a 400 instead of timing out.
"""

from __future__ import annotations

from typing import Any

from logs.archive import decode, hour_prefix, list_keys
from logs.search.predicate import Predicate
from logs.search.request import SearchError, SearchRequest
from logs.store.shardarchive import HOUR_MS

MAX_HOURS = 31 * 24
MAX_OBJECTS = 500


async def search(bucket: Any, request: SearchRequest) -> tuple[list[dict[str, Any]], bool]:
    first, last = request.start_ms // HOUR_MS, request.end_ms // HOUR_MS
    if last - first + 1 > MAX_HOURS:
        raise SearchError("since", f"an archive search covers at most {MAX_HOURS // 24} days")
    accept = Predicate(request)
    found: list[dict[str, Any]] = []
    read = 0
    for hour in range(last, first - 1, -1):
        async for key in list_keys(bucket, hour_prefix(hour)):
            read += 1
            if read > MAX_OBJECTS:
                raise SearchError(
                    "since",
                    f"the window holds more than {MAX_OBJECTS} archive "
                    "objects; narrow it (since/until)",
                )
            found += [record for record in await _records(bucket, key) if accept(record)]
        if len(found) > request.limit:
            break
    found.sort(key=lambda record: record["id"], reverse=True)
    return found[: request.limit], len(found) > request.limit


async def _records(bucket: Any, key: str) -> list[dict[str, Any]]:
    obj = await bucket.get(key)
    if obj is None:  # deleted by retention since it was listed
        return []
    return decode(bytes(await obj.arrayBuffer()))
