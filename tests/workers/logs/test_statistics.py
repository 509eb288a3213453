"""Per-minute counts fold into the dashboard's buckets."""

from __future__ import annotations

import pytest

from logs.statistics import Window, aggregate

NOW = 1_795_773_600_000  # 10:00
MINUTE = NOW // 60000


def test_the_step_defaults_to_about_sixty_buckets() -> None:
    assert Window.parse("1h", None, None, NOW).step_ms == 60_000
    assert Window.parse("24h", None, None, NOW).step_ms == 1800_000
    assert Window.parse("7d", None, None, NOW).step_ms == 3 * 3600_000


@pytest.mark.parametrize(
    ("step", "message"),
    [("30s", "whole number of minutes"), ("90s", "whole number of minutes"), ("1m", "1440")],
)
def test_bad_steps(step: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Window.parse("7d", None, step, NOW)


def test_counts_fold_into_buckets_and_totals() -> None:
    window = Window.parse("30m", None, "15m", NOW)
    rows = [
        [MINUTE - 20, 5, "api", 2],
        [MINUTE - 1, 2, "web", 3],
        [MINUTE - 1, 5, "web", 1],
        [MINUTE - 90, 5, "api", 9],
    ]
    assert aggregate(rows, window) == {
        "since": "2026-11-27T09:30:00.000Z",
        "until": "2026-11-27T10:00:00.000Z",
        "step": "15m",
        "total": 6,
        "by_level": {"error": 3, "info": 3},
        "by_service": {"api": 2, "web": 4},
        "buckets": [
            {
                "start": "2026-11-27T09:30:00.000Z",
                "total": 2,
                "by_level": {"error": 2},
                "by_service": {"api": 2},
            },
            {
                "start": "2026-11-27T09:45:00.000Z",
                "total": 4,
                "by_level": {"info": 3, "error": 1},
                "by_service": {"web": 4},
            },
            {"start": "2026-11-27T10:00:00.000Z", "total": 0, "by_level": {}, "by_service": {}},
        ],
    }
    assert aggregate(rows, window, ["web"])["total"] == 4
