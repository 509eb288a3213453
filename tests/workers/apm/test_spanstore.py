"""A span shard's derived rows: trace summaries and edges across exports, retries included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apm.ingest import ingest
from apm.sharding import span_shard, span_stub
from apm.spanstore import SpanStore
from localedge.stack import Stack
from localedge.storage import DurableObjectStorage
from obs_schema.otlp.traces import TraceSpan

TRACE = "ab" * 16
OTHER = "0000000100000000000000000000000a"  # another span shard than TRACE's


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SpanStore]:
    storage = DurableObjectStorage(tmp_path / "spans.sqlite")
    yield SpanStore(storage.sql)
    storage.close()


def row(
    span: str, parent: str, service: str, start: int, end: int, error: int = 0, **other: Any
) -> list[Any]:
    statement = other.get("fingerprint", "")
    return [other.get("trace", TRACE), span * 16, parent * 16 if parent else "", f"op-{span}",
            2, service, f"/{span}", start, end, 0, error, statement,
            "postgresql" if statement else "", "r", "{}", "{}"]  # fmt: skip


def export(store: SpanStore, *rows: list[Any]) -> dict[str, Any]:
    ids = json.dumps([[r[0], r[1], 1 if r[11] else 0] for r in rows])
    databases = any(r[11] for r in rows)
    return store.insert([[json.dumps(list(rows)), ids, len(rows), databases]], [["r", "{}"]], 7)


def repeats(store: SpanStore) -> list[tuple[str, int, int, int]]:
    found = store.sql.exec("SELECT * FROM repeats ORDER BY trace_id").toArray()
    return [(r["trace_id"][:2], r["count"], r["total_ns"], r["start_ns"]) for r in found]


def test_summaries_and_edges_add_up_over_late_exports_and_retries(store: SpanStore) -> None:
    child = row("c", "a", "db", 150, 180, error=1)
    first = export(store, child, row("d", "c", "cache", 160, 170))  # parent not there yet
    second = export(store, row("a", "", "api", 100, 200))  # the root arrives
    retry = export(store, row("a", "", "api", 100, 200), row("e", "a", "api", 120, 130))
    (summary,) = store.sql.exec("SELECT * FROM traces").toArray()
    assert [e[:2] for e in first["edges"]] == [["db", "cache"]]
    assert [e[:2] for e in second["edges"]] == [["api", "db"]]  # the older child's edge
    assert (retry["duplicates"], retry["edges"]) == (1, [])  # same service: no edge
    assert retry["new"] == [TRACE + "e" * 16]  # only the new span's statistics get recorded
    assert (summary["start_ns"], summary["end_ns"]) == (100, 200)
    assert (summary["span_count"], summary["error_count"]) == (4, 1)
    assert summary["services"] == ",db,cache,api,"
    assert (summary["root_service"], summary["root_name"], summary["root_route"]) == (
        "api",
        "op-a",
        "/a",
    )


def test_repeats_count_each_span_once_within_and_across_exports(store: SpanStore) -> None:
    query = {"fingerprint": "select * from t where id = ?"}
    other = {"trace": "cd" * 16, **query}
    export(store, row("a", "", "api", 0, 100), row("1", "a", "api", 10, 12, **query))
    export(store, row("2", "a", "api", 20, 23, **query), row("3", "a", "api", 30, 34, **query))
    first_seen = [row(n, "a", "api", 10 * int(n), 10 * int(n) + 1, **other) for n in "1234"]
    export(store, *first_seen, first_seen[0])  # a span repeated inside one export
    export(store, row("5", "", "api", 0, 1, **{**other, "fingerprint": "other"}))
    assert repeats(store) == [("ab", 3, 9, 10), ("cd", 4, 4, 10)]


def test_rows_with_their_json_texts_apart_store_what_whole_rows_store(tmp_path: Path) -> None:
    """The Worker's chunks carry the JSON columns NUL-joined beside the other columns; stored,
    they are the whole rows an earlier Worker sends (quotes, NULs, newlines in values)."""
    awkward = json.dumps({"q": 'say "hi"\x00\n', "u": "é☃"}, ensure_ascii=False)
    rows = [row("a", "", "api", 100, 200), row("b", "a", "db", 120, 130, fingerprint="select")]
    rows[0][14:16] = [awkward, '{"scope":"s\\u0000"}']
    stored = []
    for name, chunk in (
        ("whole", [json.dumps(rows)]),
        (
            "apart",
            [json.dumps([r[:14] for r in rows]), "\x00".join(t for r in rows for t in r[14:])],
        ),
    ):
        storage = DurableObjectStorage(tmp_path / f"{name}.sqlite")
        ids = json.dumps([[r[0], r[1], 1 if r[11] else 0] for r in rows])
        text, *packed = chunk
        reply = SpanStore(storage.sql).insert([[text, ids, 2, True, *packed]], [["r", "{}"]], 7)
        found = storage.sql.exec("SELECT * FROM spans ORDER BY rowid").toArray()
        stored.append((reply, [list(r.values()) for r in found]))
        storage.close()
    assert stored[0] == stored[1]
    assert [r[14:] for r in stored[1][1]] == [r[14:] for r in rows]
    assert stored[1][0]["edges"] == [["api", "db", 120, 130, 0, TRACE, "b" * 16]]


def test_a_chunk_whose_texts_do_not_match_its_rows_is_refused(store: SpanStore) -> None:
    rows = [row("a", "", "api", 100, 200)]
    ids = json.dumps([[TRACE, "a" * 16, 0]])
    with pytest.raises(ValueError, match="3 JSON texts for 1 rows"):
        store.insert([[json.dumps([rows[0][:14]]), ids, 1, False, "{}\x00{}\x00{}"]], [], 7)
    assert store.sql.exec("SELECT count(*) AS n FROM spans").one()["n"] == 0


@pytest.mark.anyio
async def test_a_span_too_large_to_store_is_named_by_its_place_in_the_request(
    stack: Stack,
) -> None:
    """The big span is the first of its span shard: its position is the request's (1), not
    its place in the shard (0); the others are stored and counted."""
    spans = [traced(TRACE, "a", ""), traced(OTHER, "b", "", blob="x" * 1_900_000)]
    spans.append(traced(TRACE, "c", "a" * 16))
    env = stack.worker("obs-apm").env
    assert span_shard(TRACE) != span_shard(OTHER)
    outcome = await ingest(env, spans, 7)
    assert (outcome.accepted, outcome.duplicates, outcome.too_large) == (2, 0, [1])
    assert await span_stub(env, span_shard(OTHER)).trace(OTHER) is None
    kept = await span_stub(env, span_shard(TRACE)).trace(TRACE)
    assert sorted(s["span_id"][0] for s in kept["spans"]) == ["a", "c"]


def traced(trace_id: str, span: str, parent: str, **attributes: Any) -> TraceSpan:
    return TraceSpan(
        trace_id=trace_id, span_id=span * 16, parent_span_id=parent, name="work", kind=2,
        service="api", start_ns=10**18, end_ns=10**18 + 5, status_code=0, status_message="",
        attributes=attributes, events=[], links=[], resource={"service.name": "api"}, scope="",
    )  # fmt: skip
