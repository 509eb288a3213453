"""Blocks, allows, expiry, audit, threat-intel lists, metrics and the snapshot RPC."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from tests.stacks import gateway_client
from tests.workers.security.conftest import ADMIN, INGEST, READ, ROOT, START, TOKENS, metric

pytestmark = pytest.mark.anyio


async def action(http: httpx.AsyncClient, ip: str) -> str:
    reply = await http.post("/security/check", json={"ip": ip}, headers=INGEST)
    return str(reply.json()["action"])


async def block(http: httpx.AsyncClient, **body: object) -> dict[str, object]:
    reply = await http.post("/security/blocks", json=body, headers=ADMIN)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def test_a_block_with_a_ttl_expires_and_the_expiry_is_audited(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    made = await block(http, target="203.0.113.9", reason="abuse", ttl_s=120)
    assert await action(http, "203.0.113.9") == "block"
    await stack.advance(119)
    assert await action(http, "203.0.113.9") == "block"
    await stack.advance(1)
    assert await action(http, "203.0.113.9") == "allow"
    assert (await http.get("/security/blocks", headers=READ)).json()["blocks"] == []
    entries = (await http.get("/security/audit", headers=READ)).json()["entries"]
    assert [(e["action"], e["actor"], e["block"]) for e in entries] == [
        ("expire", "ttl", made["block"]["id"]),  # type: ignore[index]
        ("block", "admin", made["block"]["id"]),  # type: ignore[index]
    ]


async def test_a_prefix_block_covers_its_network_and_an_allow_overrides_it(
    http: httpx.AsyncClient,
) -> None:
    await block(http, target="198.51.100.77/24", reason="hosting range")
    assert await action(http, "198.51.100.200") == "block"
    assert await action(http, "::ffff:198.51.100.5") == "block"
    assert await action(http, "198.51.101.1") == "allow"
    allowed = await block(http, target="198.51.100.200", kind="allow", reason="partner")
    assert await action(http, "198.51.100.200") == "allow"
    attack = await http.post(
        "/security/check",
        headers=INGEST,
        json={"ip": "198.51.100.200", "query": "q=%3Cscript%3Ealert(1)%3C/script%3E"},
    )
    assert attack.json()["action"] == "allow"  # inspected and reported, never blocked
    assert attack.json()["reasons"] == ["source is allow-listed: partner"]
    assert {t["type"] for t in attack.json()["threats"]} == {"xss"}
    listed = (await http.get("/security/blocks", headers=READ)).json()["blocks"]
    assert [(b["target"], b["kind"]) for b in listed] == [
        ("198.51.100.200", "allow"),
        ("198.51.100.0/24", "block"),
    ]
    removed = await http.delete(f"/security/blocks/{allowed['block']['id']}", headers=ADMIN)  # type: ignore[index]
    assert removed.status_code == 200
    assert await action(http, "198.51.100.200") == "block"


BAD_BLOCKS = [
    ({"target": "not-an-ip"}, 409),
    ({"target": "10.0.0.1", "ttl_s": 5}, 422),
    ({"target": "10.0.0.1", "kind": "maybe"}, 422),
]


async def test_bad_blocks_are_refused(http: httpx.AsyncClient) -> None:
    for body, status in BAD_BLOCKS:
        reply = await http.post("/security/blocks", json=body, headers=ADMIN)
        assert reply.status_code == status, body
    assert (await http.delete("/security/blocks/blk-nope", headers=ADMIN)).status_code == 404
    assert (
        await http.post("/security/blocks", json={"target": "10.0.0.1"}, headers=READ)
    ).status_code == 403


async def test_threat_intel_lists_load_from_r2_and_match_by_prefix(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    text = "; Spamhaus DROP style\n192.0.2.0/24 ; SBL1\n2001:db8:bad::/48\n10.1.2.3\nnonsense\n"
    reply = await http.put("/security/blocklists/drop.txt", content=text, headers=ADMIN)
    assert reply.json()["lists"] == [{"name": "drop.txt", "entries": 3, "rejected_lines": 1}]
    assert await action(http, "192.0.2.44") == "block"
    assert await action(http, "2001:db8:bad:1::9") == "block"
    assert await action(http, "10.1.2.4") == "allow"
    answer = (await http.post("/security/check", json={"ip": "10.1.2.3"}, headers=INGEST)).json()
    assert answer["reasons"] == ["source is blocked (intel): listed in drop.txt (10.1.2.3/32)"]
    stored = await stack.worker("obs-security").env.INTEL.get("blocklists/drop.txt")
    assert await stored.text() == text
    await stack.worker("obs-security").env.INTEL.delete("blocklists/drop.txt")
    await stack.trigger_cron("*/15 * * * *")  # the scheduled reload drops the deleted list
    assert (await http.get("/security/blocklists", headers=READ)).json()["networks"] == 0
    assert await action(http, "192.0.2.44") == "allow"


async def test_metrics_show_security_series_beside_http_and_lint_clean(
    http: httpx.AsyncClient, stack: Stack, promtool: str
) -> None:
    blocked = await metric(http, 'security_checks_total{action="block"}')
    await http.post(
        "/security/check",
        headers=INGEST,
        json={"ip": "203.0.113.7", "query": "q=<script>alert(1)</script>"},
    )
    await block(http, target="203.0.113.99")
    await stack.trigger_cron("* * * * *")
    reply = await http.get("/security/metrics")
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert {
        "http_requests",
        "security_checks",
        "security_threats",
        "security_blocks_active",
        "security_top_source_score",
    } <= set(families)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("security_checks_total", (("action", "block"),))] == blocked + 1
    assert samples[("security_threats_total", (("type", "xss"),))] >= 1
    assert samples[("security_blocks_active", (("kind", "block"),))] == 1
    assert samples[("security_top_source_score", (("ip", "203.0.113.7"),))] >= 5
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=reply.text, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    as_json = (await http.get("/security/metrics?format=json")).json()
    assert "security_rate_limit_hits_total" in [m["name"] for m in as_json["metrics"]]


async def test_the_snapshot_rpc_reports_the_last_five_minutes(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await http.put(
        "/security/rules",
        headers=ADMIN,
        json={"rate_limits": [{"id": "tiny", "key": ["ip"], "limit": 1, "window_s": 60}]},
    )
    for query in ("q=1%20union%20select%20null--", "q=hello"):
        await http.post(
            "/security/check", json={"ip": "203.0.113.7", "query": query}, headers=INGEST
        )
    await block(http, target="203.0.113.99")
    entry = stack.worker("obs-security").entrypoint()
    assert await entry.snapshot() == {
        "events_5m": 2,
        "blocks_active": 1,
        "rate_limited_5m": 1,
        "threats_5m": 1,
    }
    await stack.advance(301)
    assert (await entry.snapshot())["events_5m"] == 0


async def test_events_blocks_and_rules_survive_a_restart(tmp_path: Path) -> None:
    options = StackOptions(
        root=ROOT, data_dir=tmp_path / "data", clock=ManualClock(START), secrets=TOKENS
    )
    for round_ in (1, 2):
        stack = Stack(options)
        await stack.start(run_timers=False)
        async with gateway_client(stack, "http://local") as http:
            if round_ == 1:
                await block(http, target="203.0.113.99")
                await http.post(
                    "/security/check",
                    headers=INGEST,
                    json={"ip": "203.0.113.7", "path": "/../../etc/passwd"},
                )
            else:
                events = (await http.get("/security/events", headers=READ)).json()["events"]
                assert [e["type"] for e in events] == ["path_traversal"]
                assert await action(http, "203.0.113.99") == "block"
        await stack.close()


async def test_a_block_another_isolate_wrote_is_read_within_seconds(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    assert await action(http, "203.0.113.60") == "allow"  # this isolate read "no block"
    entry = '{"id": "b-x", "reason": "elsewhere", "source": "manual", "expires_ms": null}'
    await stack.worker("obs-security").env.CONFIG.put("security:block:203.0.113.60", entry)
    await stack.advance(6)  # past the isolate's 5 s copy, as KV itself lags between locations
    assert await action(http, "203.0.113.60") == "block"
