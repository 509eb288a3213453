"""WAL checkpoints off the event loop: the log is folded into the database by another thread,
committed rows stay where they are, and a closed object leaves no log behind."""

from __future__ import annotations

from pathlib import Path

from localedge.checkpointer import CHECKPOINT_CHANGES, CHECKPOINTS, Checkpointer
from localedge.storage import DurableObjectStorage


def fill(storage: DurableObjectStorage, rows: int) -> None:
    storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
    for n in range(rows):
        storage.sql.exec("INSERT INTO t (body) VALUES (?)", "x" * 200 + str(n))
    storage.commit()


def test_commits_past_the_threshold_are_checkpointed_by_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "object.sqlite"
    storage = DurableObjectStorage(path)
    fill(storage, 100)
    small = path.stat().st_size  # the object's own connection never checkpoints
    fill(storage, CHECKPOINT_CHANGES)
    CHECKPOINTS.release(path)  # queued after the checkpoint: returns once it has run
    assert path.stat().st_size > small + CHECKPOINT_CHANGES * 200
    storage.close()


def test_rows_survive_and_no_log_is_left_after_close(tmp_path: Path) -> None:
    path = tmp_path / "object.sqlite"
    storage = DurableObjectStorage(path)
    fill(storage, CHECKPOINT_CHANGES + 10)
    storage.close()
    assert not (tmp_path / "object.sqlite-wal").exists()
    reopened = DurableObjectStorage(path)
    assert reopened.sql.exec("SELECT count(*) AS n FROM t").one()["n"] == CHECKPOINT_CHANGES + 10
    reopened.close()


def test_a_file_gone_before_its_checkpoint_is_not_created_again(tmp_path: Path) -> None:
    checkpointer = Checkpointer()
    gone = tmp_path / "deleted.sqlite"
    checkpointer.request(gone)
    checkpointer.release(gone)
    assert not gone.exists()
