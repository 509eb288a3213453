"""Checkpoints of the Durable Objects' write-ahead logs, on a thread of their own.

In WAL mode SQLite appends each commit to the log, and every 1,000 pages copies the log back
into the database and syncs both to disk - inside whichever commit crossed the line, on the
event loop's thread, stalling every request behind it (10-15 % of a logs ingest run). Here an
object's own connection never checkpoints; once its commits have changed CHECKPOINT_CHANGES
rows, its file is handed to one background thread that checkpoints it on a connection of its
own (PASSIVE: it neither waits for the object's writes nor blocks them). SQLite releases the
GIL while it copies and syncs, so the event loop serves on meanwhile.

Durability is as before: a commit is in the log when it returns (synchronous = NORMAL), which
survives the process; the checkpoint's sync, now a moment later, is what survives power loss.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("localedge")

# Rows changed since the last request. A page written by several commits between two
# checkpoints is copied back once: a log shard's recent pages take rows from every batch, and
# at 16,000 (about 8 batches of 1,000 log records, a log of ~16 MB) the checkpoint thread costs
# 0.8 us of CPU per ingested record instead of 2.5 at 4,000 (about SQLite's own cadence).
CHECKPOINT_CHANGES = 16_000
RELEASE_TIMEOUT_S = 30.0

Job = tuple[str, Path, threading.Event | None]


class Checkpointer:
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._queued: set[Path] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def request(self, path: Path) -> None:
        """Checkpoint `path` soon (once, however often asked before it runs)."""
        with self._lock:
            if path in self._queued:
                return
            self._queued.add(path)
            self._start()
        self._jobs.put(("checkpoint", path, None))

    def release(self, path: Path) -> None:
        """Close this thread's connection to `path` (its object is closing): after the last
        connection closes, SQLite checkpoints the rest and removes the log. Waits for it."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                return  # never started (no connection of its own), or gone with its connections
        done = threading.Event()
        self._jobs.put(("release", path, done))
        if not done.wait(RELEASE_TIMEOUT_S):
            log.warning("checkpointer did not release %s in time", path.name)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        connections: dict[Path, sqlite3.Connection] = {}
        while True:
            kind, path, done = self._jobs.get()
            if kind == "checkpoint":
                with self._lock:
                    self._queued.discard(path)
                _checkpoint(connections, path)
            else:
                connection = connections.pop(path, None)
                if connection is not None:
                    connection.close()
                if done is not None:
                    done.set()


def _checkpoint(connections: dict[Path, sqlite3.Connection], path: Path) -> None:
    try:
        connection = connections.get(path)
        if connection is None:
            # mode=rw: a file deleted meanwhile is an error here, never an empty new database.
            uri = f"{path.absolute().as_uri()}?mode=rw"
            connection = connections[path] = sqlite3.connect(uri, uri=True, isolation_level=None)
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except (sqlite3.Error, OSError) as error:
        # The object's own commits are unaffected; the log just grows until the next try.
        log.warning("WAL checkpoint of %s failed: %s", path.name, error)
        stale = connections.pop(path, None)
        if stale is not None:
            stale.close()


CHECKPOINTS = Checkpointer()
