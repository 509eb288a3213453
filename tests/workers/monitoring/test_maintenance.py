"""Maintenance windows, one-off and weekly, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from monitoring.maintenance import DAY_MS, active, covered, parse, parse_all


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_a_one_off_window_covers_exactly_its_span() -> None:
    window = parse({"start": "2026-03-02T02:00:00Z", "end": "2026-03-02T03:00:00Z"})
    assert window.occurrences(ms("2026-03-02"), ms("2026-03-03")) == [
        (ms("2026-03-02T02:00"), ms("2026-03-02T03:00"))
    ]
    assert active([window], ms("2026-03-02T02:59:59")) is window
    assert active([window], ms("2026-03-02T03:00")) is None


def test_a_weekly_window_recurs_on_its_days_and_spills_past_midnight() -> None:
    # Sundays 23:30 for an hour: 2026-03-01, 03-08 and 03-15 are Sundays.
    window = parse({"days": ["sun"], "at": "23:30", "duration": 3600, "reason": "deploys"})
    assert window.reason == "deploys"
    found = window.occurrences(ms("2026-03-02"), ms("2026-03-16T00:10"))
    assert found == [
        (ms("2026-03-02T00:00"), ms("2026-03-02T00:30")),  # Sunday the 1st, past midnight
        (ms("2026-03-08T23:30"), ms("2026-03-09T00:30")),
        (ms("2026-03-15T23:30"), ms("2026-03-16T00:10")),
    ]
    # Seen from Monday morning, Sunday night's window is still running.
    assert active([window], ms("2026-03-09T00:15")) is window


def test_no_days_means_every_day_and_windows_merge() -> None:
    daily = parse({"at": "02:00", "duration": 1800})
    overlapping = parse({"start": "2026-03-02T02:15:00Z", "end": "2026-03-02T03:00:00Z"})
    start = ms("2026-03-02")
    assert covered(parse_all([]), start, start + DAY_MS) == []
    assert covered([daily, overlapping], start, start + 2 * DAY_MS) == [
        (ms("2026-03-02T02:00"), ms("2026-03-02T03:00")),
        (ms("2026-03-03T02:00"), ms("2026-03-03T02:30")),
    ]
