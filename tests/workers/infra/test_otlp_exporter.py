"""The OpenTelemetry SDK's own OTLP/HTTP metric exporter against a real server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from tests.workers.infra.helpers import ROOT

pytestmark = pytest.mark.stack


@contextmanager
def serving(data: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBS_")}
    env.update(OBS_INGEST_TOKEN="i-tok", OBS_READ_TOKEN="r-tok", OBS_ADMIN_TOKEN="a-tok")
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localedge", "serve", "--port", str(port), "--data-dir",
         str(data / "state"), "--root", str(ROOT)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # a bound on start-up, not a performance assertion
        while b"Local stack ready" not in (data / "server.log").read_bytes():
            assert time.monotonic() < deadline, (data / "server.log").read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        log.close()


def test_the_sdk_exporter_posts_protobuf_that_is_stored(tmp_path: Path) -> None:
    with serving(tmp_path) as url:
        exporter = OTLPMetricExporter(
            endpoint=f"{url}/v1/metrics", headers={"authorization": "Bearer i-tok"}
        )
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = MeterProvider(
            metric_readers=[reader], resource=Resource.create({"service.name": "pitchey-api"})
        )
        meter = provider.get_meter("exporter-test")
        meter.create_counter("pitches_created").add(5, {"plan": "pro"})
        meter.create_histogram("render_seconds", unit="s").record(0.2)
        assert reader.force_flush(timeout_millis=30_000)
        provider.shutdown()
        read = {"authorization": "Bearer r-tok"}
        created = httpx.get(
            f"{url}/infra/timeseries",
            params={"metric": "pitches_created", "since": "5m", "step": "5m", "by": "plan"},
            headers=read,
        ).json()
        renders = httpx.get(
            f"{url}/infra/timeseries",
            params={"metric": "render_seconds", "since": "5m", "step": "5m", "fn": "count"},
            headers=read,
        ).json()
    assert created["series"][0]["labels"] == {"plan": "pro"}
    assert sum(v or 0 for _, v in created["series"][0]["points"]) == 5.0
    assert sum(v or 0 for _, v in renders["series"][0]["points"]) == 1.0
