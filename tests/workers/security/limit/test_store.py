"""Limiter state in a shard's SQLite: decisions persist across a restart of the object."""

from __future__ import annotations

from pathlib import Path

from localedge.storage import DurableObjectStorage
from security.limit.store import LimiterStore

RULE = {"id": "r", "limit": 2, "window_s": 60}


def test_state_survives_the_object_being_rebuilt(tmp_path: Path) -> None:
    storage = DurableObjectStorage(tmp_path / "s.sqlite")
    store = LimiterStore(storage.sql)
    assert store.decide(RULE, "k", 0).allowed and store.decide(RULE, "k", 1).allowed
    storage.commit()
    storage.close()
    reopened = DurableObjectStorage(tmp_path / "s.sqlite")
    fresh = LimiterStore(reopened.sql)
    assert not fresh.decide(RULE, "k", 2).allowed
    exact = {**RULE, "mode": "exact"}
    assert [fresh.decide(exact, "k", t).allowed for t in (0, 1, 2)] == [True, True, False]


def test_a_changed_window_starts_afresh_and_idle_keys_are_swept(tmp_path: Path) -> None:
    storage = DurableObjectStorage(tmp_path / "s.sqlite")
    store = LimiterStore(storage.sql)
    store.decide(RULE, "k", 0)
    store.decide(RULE, "k", 0)
    assert store.decide({**RULE, "window_s": 30}, "k", 0).allowed
    store.sweep(10**9)
    count = storage.sql.exec("SELECT count(*) AS n FROM rl_counter").one()["n"]
    assert count == 0
