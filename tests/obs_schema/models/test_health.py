"""Health: the report every Worker answers on /health, and how statuses roll up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema import host
from obs_schema.models import ComponentHealth, HealthReport, HealthStatus, worst
from obs_schema.models.health import rollup

H, D, U = HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.UNHEALTHY


@pytest.fixture
def frozen_clock() -> Iterator[float]:
    instant = 1795773600.25
    host.install(clock=lambda: instant)
    yield instant
    host.reset()


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [([], H), ([H], H), ([H, H], H), ([H, D], D), ([D, H, D], D), ([H, U, D], U), ([U], U)],
)
def test_the_overall_status_is_the_worst_component(
    statuses: list[HealthStatus], expected: HealthStatus
) -> None:
    assert worst(statuses) is expected


def test_a_report_from_components_rolls_up_and_is_stamped_with_the_host_clock(
    frozen_clock: float,
) -> None:
    report = HealthReport.from_components(
        worker="logs",
        version="0.1.0",
        components={
            "kv": ComponentHealth(status=H, latency_ms=3.25),
            "r2": ComponentHealth(status=D, latency_ms=950, detail="slow"),
        },
    )
    assert report.model_dump(mode="json") == {
        "status": "degraded",
        "worker": "logs",
        "version": "0.1.0",
        "time": "2026-11-27T10:00:00.250Z",
        "components": {
            "kv": {
                "status": "healthy",
                "latency_ms": 3.25,
                "detail": None,
                "kind": None,
                "critical": False,
            },
            "r2": {
                "status": "degraded",
                "latency_ms": 950.0,
                "detail": "slow",
                "kind": None,
                "critical": False,
            },
        },
    }


def test_the_public_view_hides_component_detail(frozen_clock: float) -> None:
    report = HealthReport.from_components(
        worker="apm", version="1", components={"do": ComponentHealth(status=U, detail="timeout")}
    )
    public = report.public()
    assert (public.status, public.components) == (U, {})
    assert report.components  # the original is untouched


def test_reports_parse_from_json_with_an_explicit_time() -> None:
    report = HealthReport.model_validate_json(
        '{"status":"healthy","worker":"infra","version":"2","time":"2026-11-27T10:00:00Z",'
        '"components":{"kv":{"status":"healthy"}}}'
    )
    assert report.time == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert report.components["kv"].latency_ms is None


INVALID: list[dict[str, Any]] = [
    {"status": "ok"},
    {"status": None},
    {"worker": ""},
    {"version": ""},
    {"components": {"kv": {"status": "fine"}}},
    {"components": {"kv": {"status": "healthy", "latency_ms": -1}}},
    {"components": {"kv": {"status": "healthy", "latency_ms": float("nan")}}},
    {"components": {"kv": {"status": "healthy", "detail": "d" * 1025}}},
    {"components": {"": {"status": "healthy"}}},
    {"components": {f"c{i}": {"status": "healthy"} for i in range(65)}},
]


@pytest.mark.parametrize("change", INVALID)
def test_invalid_reports_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HealthReport.model_validate({"status": "healthy", "worker": "w", "version": "1", **change})


def component(status: HealthStatus, critical: bool = False) -> ComponentHealth:
    return ComponentHealth(status=status, critical=critical)


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ([], H),
        ([component(H, True), component(H)], H),
        ([component(H, True), component(U)], D),  # a non-critical failure only degrades
        ([component(D, True), component(H)], D),
        ([component(U, True), component(H)], U),
        ([component(U), component(U)], D),
    ],
)
def test_rollup_lets_only_critical_components_make_the_report_unhealthy(
    components: list[ComponentHealth], expected: HealthStatus
) -> None:
    assert rollup(components) is expected


def test_a_rolled_up_report_keeps_kind_and_criticality(frozen_clock: float) -> None:
    report = HealthReport.rolled_up(
        worker="monitoring",
        version="1",
        components={
            "kv": ComponentHealth(status=U, kind="kv", critical=True),
            "worker:logs": ComponentHealth(status=H, kind="worker"),
        },
    )
    assert report.status is U
    assert report.model_dump(mode="json")["components"]["kv"]["kind"] == "kv"
