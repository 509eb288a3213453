"""The alerting Worker's own series on /alerts/metrics: counted, and clean for promtool."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.workers.alerting.support import INGEST, event

pytestmark = pytest.mark.anyio
ACCEPTED = ("alerting_events_total", (("outcome", "accepted"), ("via", "http")))
REJECTED = ("alerting_events_total", (("outcome", "rejected"), ("via", "http")))


async def scrape(
    http: httpx.AsyncClient,
) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    text = (await http.get("/alerts/metrics")).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


async def test_events_and_alert_states_are_exposed_and_lint_clean(
    http: httpx.AsyncClient, promtool: str
) -> None:
    # The Worker's module (and its counters) outlives one stack, as in a warm isolate: deltas.
    _, before = await scrape(http)
    await http.post("/alerts/events", json=[event(), {"name": ""}], headers=INGEST)
    text, after = await scrape(http)
    assert after[ACCEPTED] - before.get(ACCEPTED, 0) == 1
    assert after[REJECTED] - before.get(REJECTED, 0) == 1
    assert after[("alerting_alerts", (("status", "firing"),))] == 1
    assert after[("alerting_notifications", (("state", "pending"),))] == 0
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
