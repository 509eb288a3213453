"""A span shard's derived rows: trace summaries and edges across exports, retries included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apm.spanstore import SpanStore
from localedge.storage import DurableObjectStorage

TRACE = "ab" * 16


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SpanStore]:
    storage = DurableObjectStorage(tmp_path / "spans.sqlite")
    yield SpanStore(storage.sql)
    storage.close()


def row(span: str, parent: str, service: str, start: int, end: int, error: int = 0) -> list[Any]:
    return [TRACE, span * 16, parent * 16 if parent else "", f"op-{span}", 2, service,
            f"/{span}", start, end, 0, error, "", "", "r", "{}", "{}"]  # fmt: skip


def export(store: SpanStore, *rows: list[Any]) -> dict[str, Any]:
    ids = json.dumps([[r[0], r[1], 0] for r in rows])
    return store.insert([[json.dumps(list(rows)), ids, len(rows), False]], [["r", "{}"]], 7)


def test_summaries_and_edges_add_up_over_late_exports_and_retries(store: SpanStore) -> None:
    child = row("c", "a", "db", 150, 180, error=1)
    first = export(store, child, row("d", "c", "cache", 160, 170))  # parent not there yet
    second = export(store, row("a", "", "api", 100, 200))  # the root arrives
    retry = export(store, row("a", "", "api", 100, 200), row("e", "a", "api", 120, 130))
    (summary,) = store.sql.exec("SELECT * FROM traces").toArray()
    assert [e[:2] for e in first["edges"]] == [["db", "cache"]]
    assert [e[:2] for e in second["edges"]] == [["api", "db"]]  # the older child's edge
    assert (retry["duplicates"], retry["edges"]) == (1, [])  # same service: no edge
    assert (summary["start_ns"], summary["end_ns"]) == (100, 200)
    assert (summary["span_count"], summary["error_count"]) == (4, 1)
    assert summary["services"] == ",db,cache,api,"
    assert (summary["root_service"], summary["root_name"], summary["root_route"]) == (
        "api",
        "op-a",
        "/a",
    )
