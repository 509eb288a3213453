"""Month bounds and the CSV form of the SLA report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.sla import COLUMNS, month_bounds, to_csv


def ms(year: int, month: int, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp() * 1000)


MARCH_2 = ms(2026, 3, 2)


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        ("2026-03", ("2026-03", ms(2026, 3), ms(2026, 4))),
        ("2026-12", ("2026-12", ms(2026, 12), ms(2027, 1))),
        (None, ("2026-03", ms(2026, 3), ms(2026, 4))),
    ],
)
def test_month_bounds(month: str | None, expected: tuple[str, int, int]) -> None:
    assert month_bounds(month, MARCH_2) == expected


@pytest.mark.parametrize("month", ["2026-3", "2026-00", "march", "2026-13"])
def test_bad_months_are_refused(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds(month, MARCH_2)


def test_csv_rows_with_nulls_booleans_and_defused_formulas() -> None:
    row = dict.fromkeys(COLUMNS, None) | {"check_id": "api", "name": "=HYPERLINK(1)", "met": True}
    text = to_csv([row])
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert text.splitlines()[1] == "api,'=HYPERLINK(1),,,true,,,,,,"
    assert text.endswith("\r\n")
