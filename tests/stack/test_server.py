"""The local stack as operators run it: a real server process on loopback, stopped and restarted."""

from __future__ import annotations

import os
import re
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
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "localedge" / "fixture"
PREFIXES = ["monitoring", "logs", "apm", "infra", "alerts", "security"]
pytestmark = pytest.mark.stack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(
    root: Path, data: Path, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    """Run `python -m localedge serve`; yield its base URL and everything it printed at start."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBS_")}
    env.update(extra_env or {})
    command = [
        sys.executable,
        "-m",
        "localedge",
        "serve",
        "--port",
        str(port),
        "--root",
        str(root),
        "--data-dir",
        str(data),
        *args,
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    printed = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60  # a bound on start-up, not a performance assertion
        for line in process.stdout:
            printed.append(line)
            if "Local stack ready" in line or time.monotonic() > deadline:
                break
        assert any("Local stack ready" in line for line in printed), "".join(printed)
        yield f"http://127.0.0.1:{port}", "".join(printed)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_six_workers_answer_and_generated_tokens_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server(ROOT, data) as (url, printed):
        tokens = dict(re.findall(r"(OBS_\w+_TOKEN)=(\S+)", printed))
        assert sorted(tokens) == ["OBS_ADMIN_TOKEN", "OBS_INGEST_TOKEN", "OBS_READ_TOKEN"]
        for prefix in PREFIXES:
            health = httpx.get(f"{url}/{prefix}/health")
            assert (health.status_code, health.json()["status"]) == (200, "healthy")
            metrics = httpx.get(f"{url}/{prefix}/metrics")
            assert list(text_string_to_metric_families(metrics.text))
    with server(ROOT, data) as (url, printed):
        assert "OBS_READ_TOKEN=" not in printed  # minted once, never again
        reader = {"authorization": f"Bearer {tokens['OBS_READ_TOKEN']}"}
        detail = httpx.get(f"{url}/logs/health", headers=reader)
        assert detail.status_code == 200 and "components" in detail.json()
        bad = httpx.get(f"{url}/logs/health", headers={"authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("objects", [(), ("--home-thread",)], ids=["in-loop", "home-thread"])
def test_durable_object_and_r2_state_survive_a_restart_and_cron_runs_on_demand(
    tmp_path: Path, objects: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    with server(FIXTURE, data, args=objects) as (url, _):
        assert httpx.get(f"{url}/alpha/count").json() == 1
        assert httpx.get(f"{url}/alpha/count").json() == 2
        fired = httpx.get(f"{url}/cdn-cgi/local/scheduled", params={"cron": "*/5 * * * *"})
        assert fired.json() == {"cron": "*/5 * * * *", "workers": ["alpha"]}
        reply = httpx.get(f"{url}/alpha/beta")
        assert reply.text == "beta got POST from alpha"
    with server(FIXTURE, data, args=objects) as (url, _):
        assert httpx.get(f"{url}/alpha/count").json() == 3
        assert httpx.get(f"{url}/beta/x").text == "beta got GET "
    assert list((data / "r2" / "alpha-bucket").rglob("*"))  # the cron's waitUntil upload landed
