"""Reading through HTTP: summary, timeseries, search, service map, databases, dependencies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from obs_schema.sketch import Sketch
from tests.workers.apm.conftest import ADMIN, INGEST, READ, START

MS = START * 1000


def span(trace: int, span_id: int, **fields: Any) -> dict[str, Any]:
    start = fields.pop("at", 0.0)
    duration = fields.pop("ms", 10.0)
    return {
        "trace_id": f"{trace:032x}",
        "span_id": f"{span_id:016x}",
        "name": "GET /pitches",
        "kind": "server",
        "service": "api",
        "start_ms": MS + start,
        "end_ms": MS + start + duration,
        "attributes": {"http.route": "/pitches"},
        **fields,
    }


async def send(http: httpx.AsyncClient, spans: list[dict[str, Any]]) -> None:
    reply = await http.post("/apm/spans", json=spans, headers=INGEST)
    assert reply.status_code == 200 and not reply.json()["rejected"], reply.text


@pytest.mark.anyio
async def test_summary_percentiles_and_apdex_come_from_the_merged_sketch(
    http: httpx.AsyncClient,
) -> None:
    durations = [float(d) for d in range(5, 2005, 20)]  # 100 requests, 5 ms to 1985 ms
    spans = [
        span(i + 1, i + 1, ms=d, at=-i * 1000.0, status={"code": "error"} if i % 10 == 0 else {})
        for i, d in enumerate(durations)
    ]
    await send(http, spans[:50])
    await send(http, spans[50:])
    reply = await http.get("/apm/summary", params={"apdex_t_ms": 500}, headers=READ)
    sketch = Sketch()
    for duration in durations:
        sketch.add(duration)
    satisfied, tolerating = sketch.rank(500), sketch.rank(2000) - sketch.rank(500)
    expected = {
        "service": "api",
        "route": "/pitches",
        "requests": 100,
        "throughput_per_min": round(100 / 61, 3),
        "errors": 10,
        "error_rate": 0.1,
        "p50_ms": round(sketch.quantile(0.5) or 0, 3),
        "p95_ms": round(sketch.quantile(0.95) or 0, 3),
        "p99_ms": round(sketch.quantile(0.99) or 0, 3),
        "avg_ms": 995.0,
        "total_ms": 99500.0,
        "apdex": round((satisfied + tolerating / 2) / 100, 4),
    }
    body = reply.json()
    assert body["routes"] == [expected]
    assert body["services"] == [{k: v for k, v in expected.items() if k != "route"}]
    assert (body["resolution"], body["minutes"], body["apdex_t_ms"]) == ("1m", 61, 500.0)


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), (INGEST, 403), ({"authorization": "Bearer nope"}, 401)]
)
@pytest.mark.anyio
async def test_reads_need_a_read_token(
    http: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    reply = await http.get("/apm/summary", headers=headers)
    assert reply.status_code == status
    assert reply.json()["error"]["code"] in ("unauthorized", "forbidden")


@pytest.mark.anyio
async def test_timeseries_counts_requests_per_step(http: httpx.AsyncClient) -> None:
    await send(http, [span(i + 1, i + 1, at=-60_000.0 * (i % 3)) for i in range(9)])
    reply = await http.get(
        "/apm/timeseries",
        params={"service": "api", "metric": "count", "since": "5m", "step": "1m"},
        headers=READ,
    )
    points = reply.json()["points"]
    assert [p["value"] for p in points] == [0.0, 0.0, 0.0, 3.0, 3.0, 3.0]
    assert points[-1]["t"] == "2026-01-01T00:00:00.000Z"
    bad = await http.get(
        "/apm/timeseries", params={"service": "api", "metric": "p42"}, headers=READ
    )
    assert bad.status_code == 400


@pytest.mark.anyio
async def test_search_filters_on_one_span_and_pages_newest_first(http: httpx.AsyncClient) -> None:
    def tagged(t: int) -> dict[str, Any]:
        tier = "pro" if t % 2 else "free"
        attributes = {"http.route": "/pitches", "user.tier": tier, "retries": t}
        return span(t, t, at=-t * 100.0, ms=5.0 + t, attributes=attributes)

    spans = [tagged(t) for t in range(1, 8)]
    spans.append(span(99, 99, service="billing", status={"code": "error"}, at=-50.0))
    await send(http, spans)

    async def ids(**params: Any) -> list[int]:
        reply = await http.get("/apm/traces", params=params, headers=READ)
        return [int(t["trace_id"], 16) for t in reply.json()["traces"]]

    assert await ids(service="api") == [1, 2, 3, 4, 5, 6, 7]
    assert await ids(status="error") == [99]
    assert await ids(min_duration_ms=10) == [99, 5, 6, 7]
    assert await ids(**{"attr.user.tier": "pro"}) == [1, 3, 5, 7]
    assert await ids(**{"attr.retries": "4"}) == [4]
    first = (await http.get("/apm/traces", params={"limit": 3}, headers=READ)).json()
    second = await http.get(
        "/apm/traces", params={"limit": 3, "cursor": first["next_cursor"]}, headers=READ
    )
    assert [int(t["trace_id"], 16) for t in first["traces"]] == [99, 1, 2]
    assert [int(t["trace_id"], 16) for t in second.json()["traces"]] == [3, 4, 5]
    broken = await http.get("/apm/traces", params={"cursor": "!!"}, headers=READ)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(("trace_id", "status"), [("f" * 32, 404), ("xyz", 400), ("A" * 31, 400)])
@pytest.mark.anyio
async def test_unknown_or_malformed_trace_ids(
    http: httpx.AsyncClient, trace_id: str, status: int
) -> None:
    reply = await http.get(f"/apm/traces/{trace_id}", headers=READ)
    assert reply.status_code == status


def db_span(trace: int, span_id: int, statement: str, **fields: Any) -> dict[str, Any]:
    return span(
        trace,
        span_id,
        name="query",
        kind="client",
        parent_span_id=f"{trace:016x}",
        attributes={"db.system": "postgresql", "db.statement": statement},
        **fields,
    )


@pytest.mark.anyio
async def test_database_statements_group_by_fingerprint_and_n_plus_one_is_found(
    http: httpx.AsyncClient,
) -> None:
    by_id = "SELECT * FROM pitches WHERE id = "
    loop = [db_span(1, 100 + i, by_id + str(i), ms=2.0) for i in range(6)]
    other = [db_span(2, 200, "SELECT count(*) FROM users WHERE tier IN (1, 2)", ms=30.0)]
    await send(http, [span(1, 1, ms=50.0), span(2, 2), *loop, *other])
    body = (await http.get("/apm/db", headers=READ)).json()
    assert [(s["fingerprint"], s["calls"], s["total_ms"]) for s in body["statements"]] == [
        ("select count(*) from users where tier in (?)", 1, 30.0),
        ("select * from pitches where id = ?", 6, 12.0),
    ]
    assert body["statements"][0]["slowest"][0]["trace_id"] == f"{2:032x}"
    assert [(n["trace_id"][-1], n["count"], n["fingerprint"]) for n in body["n_plus_one"]] == [
        ("1", 6, "select * from pitches where id = ?")
    ]
    strict = (await http.get("/apm/db", params={"n_plus_one_min": 7}, headers=READ)).json()
    assert strict["n_plus_one"] == []


@pytest.mark.anyio
async def test_outgoing_http_calls_are_summarised_per_host(http: httpx.AsyncClient) -> None:
    calls = [
        span(1, 10 + i, kind="client", parent_span_id=f"{1:016x}", ms=100.0 + i,
             attributes={"http.request.method": "GET", "url.full": "https://API.stripe.com/v1/charges"})
        for i in range(3)
    ]  # fmt: skip
    await send(http, [span(1, 1, ms=500.0), *calls])
    hosts = (await http.get("/apm/dependencies", headers=READ)).json()["hosts"]
    assert [(h["host"], h["calls"], len(h["slowest"])) for h in hosts] == [("api.stripe.com", 3, 1)]


@pytest.mark.anyio
async def test_settings_are_validated_and_read_back(http: httpx.AsyncClient) -> None:
    config = {"apdex_t_ms": 250, "n_plus_one_min": 8, "sampling": {"keep_fraction": 0.25}}
    denied = await http.put("/apm/config", json=config, headers=READ)
    stored = await http.put("/apm/config", json=config, headers=ADMIN)
    invalid = await http.put("/apm/config", json={"apdex_t_ms": -1}, headers=ADMIN)
    assert denied.status_code == 403 and invalid.status_code == 422
    assert stored.json() == (await http.get("/apm/config", headers=READ)).json()
    assert stored.json() == {
        "apdex_t_ms": 250.0,
        "n_plus_one_min": 8,
        "sampling": {"keep_fraction": 0.25, "latency_ms": 1000.0, "decision_wait_s": 60.0},
    }
    summary = (await http.get("/apm/summary", headers=READ)).json()
    assert summary["apdex_t_ms"] == 250.0


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/apm/summary", {"since": "400d"}, 200),  # hundreds of hour rows, one parameter
        ("/apm/summary", {"since": "yesterday"}, 400),
        ("/apm/traces", {f"attr.k{i}": "v" for i in range(9)}, 400),
        ("/apm/traces", {"attr.": "v"}, 400),
        ("/apm/timeseries", {"service": "api", "step": "soon"}, 400),
        ("/apm/traces", {"status": "ok"}, 400),
    ],
)
@pytest.mark.anyio
async def test_odd_queries_get_answers_or_400s_never_500s(
    http: httpx.AsyncClient, path: str, params: dict[str, str], status: int
) -> None:
    await send(http, [span(1, 1)])
    await http.get("/cdn-cgi/local/scheduled", params={"cron": "* * * * *"})
    reply = await http.get(path, params=params, headers=READ)
    assert reply.status_code == status, reply.text
