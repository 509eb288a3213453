"""Correlation of one source's events into a decaying, variety-weighted incident score."""

from __future__ import annotations

from pathlib import Path

from localedge.storage import DurableObjectStorage
from security.respond.incidents import IncidentBook, Scoring

SCORING = Scoring(
    gap_ms=30 * 60_000, half_life_ms=60 * 60_000, variety_bonus=0.25, alert_score=15, block_score=25
)


def event(kind: str, score: float, at: int, ip: str = "10.0.0.1") -> dict[str, object]:
    return {"type": kind, "ip": ip, "score": score, "time_ms": at}


def test_events_accumulate_cross_the_lines_once_and_reward_variety(tmp_path: Path) -> None:
    book = IncidentBook(DurableObjectStorage(tmp_path / "s.sqlite").sql)
    first = book.correlate(event("sqli", 10, 0), 0, SCORING)
    second = book.correlate(event("xss", 5, 0), 0, SCORING)
    third = book.correlate(event("xss", 6, 0), 0, SCORING)
    assert first["id"] == second["id"] == third["id"]
    assert (first["score"], second["score"], third["score"]) == (10, 18.75, 26.25)
    assert (second["should_alert"], second["should_block"]) == (True, False)
    assert (third["should_alert"], third["should_block"]) == (False, True)
    assert third["types"] == {"sqli": 1, "xss": 2}


def test_scores_decay_and_a_long_gap_opens_a_new_incident(tmp_path: Path) -> None:
    book = IncidentBook(DurableObjectStorage(tmp_path / "s.sqlite").sql)
    first = book.correlate(event("sqli", 10, 0), 0, SCORING)
    later = book.correlate(event("sqli", 10, 20 * 60_000), 20 * 60_000, SCORING)
    assert later["id"] == first["id"] and later["score"] == round(10 * 0.5 ** (1 / 3) + 10, 2)
    apart = book.correlate(event("sqli", 10, 60 * 60_000), 60 * 60_000, SCORING)
    assert apart["id"] != first["id"] and apart["score"] == 10
    other = book.correlate(event("sqli", 10, 0, ip="10.0.0.2"), 60 * 60_000, SCORING)
    assert other["id"] not in (first["id"], apart["id"])
    assert book.close_idle(95 * 60_000, SCORING) == 3
