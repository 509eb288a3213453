"""Uptime from incidents, creation time and maintenance: exact to the millisecond."""

from __future__ import annotations

import pytest

from monitoring.maintenance import DAY_MS, Window
from monitoring.uptime import Availability, History, Incident, combined

H = 3_600_000


def test_uptime_counts_only_monitored_time_and_open_incidents_until_now() -> None:
    history = History(created_ms=0, incidents=[Incident(H, 2 * H), Incident(5 * H, None)])
    figures = history.trailing(DAY_MS, now=6 * H)
    assert (figures.monitored_ms, figures.downtime_ms, figures.incidents) == (6 * H, 2 * H, 2)
    assert figures.uptime_pct == round(100 * 4 / 6, 4)


def test_maintenance_is_neither_up_nor_down() -> None:
    history = History(
        created_ms=0,
        incidents=[Incident(H, 3 * H)],
        maintenance=[Window(start_ms=2 * H, end_ms=4 * H)],
    )
    figures = history.availability(0, 10 * H, now=10 * H)
    assert (figures.monitored_ms, figures.maintenance_ms, figures.downtime_ms) == (
        8 * H, 2 * H, H,
    )  # fmt: skip
    assert figures.uptime_pct == 87.5


def test_windows_before_creation_have_no_figure() -> None:
    history = History(created_ms=10 * DAY_MS, incidents=[])
    assert history.availability(0, DAY_MS, now=20 * DAY_MS) == Availability(0, DAY_MS, 0, 0, 0, 0)
    assert history.availability(0, DAY_MS, now=20 * DAY_MS).uptime_pct is None


def test_daily_bars_end_today_and_split_incidents_at_midnight() -> None:
    now = 3 * DAY_MS + 12 * H
    history = History(created_ms=DAY_MS, incidents=[Incident(2 * DAY_MS - H, 2 * DAY_MS + H)])
    days = history.daily(4, now)
    assert [d.start_ms for d in days] == [0, DAY_MS, 2 * DAY_MS, 3 * DAY_MS]
    assert [d.downtime_ms for d in days] == [0, H, H, 0]
    assert [d.uptime_pct for d in days] == [
        None,
        round(100 * 23 / 24, 4),
        round(100 * 23 / 24, 4),
        100.0,
    ]
    assert days[-1].monitored_ms == 12 * H


@pytest.mark.parametrize(
    ("parts", "expected"),
    [([], None), ([Availability(0, 1, 100, 10, 0, 1), Availability(0, 1, 300, 0, 0, 0)], 97.5)],
)
def test_combined_uptime_weights_by_monitored_time(
    parts: list[Availability], expected: float | None
) -> None:
    assert combined(parts) == expected
