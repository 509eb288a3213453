"""The ledger on a real Durable Object SQLite file: blocks, expiry, audit and undo."""

from __future__ import annotations

from pathlib import Path

import pytest

from localedge.storage import DurableObjectStorage
from security.respond.ledger import Ledger, LedgerError, canonical_target


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(DurableObjectStorage(tmp_path / "ledger.sqlite").sql)


@pytest.mark.parametrize(
    ("target", "canonical"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("203.0.113.77/24", "203.0.113.0/24"),
        ("203.0.113.7/32", "203.0.113.7"),
        ("2001:DB8::1/128", "2001:db8::1"),
        ("2001:db8::/32", "2001:db8::/32"),
    ],
)
def test_targets_are_canonical(target: str, canonical: str) -> None:
    assert canonical_target(target) == canonical


def test_a_block_expires_once_and_is_audited(ledger: Ledger) -> None:
    made = ledger.add(
        {"target": "10.0.0.1", "ttl_s": 60, "reason": "r", "actor": "auto", "source": "auto"}, 1_000
    )
    assert made["block"]["expires_ms"] == 61_000 and ledger.next_expiry() == 61_000
    assert ledger.expire(60_999)["expired"] == []
    assert [b["target"] for b in ledger.expire(61_000)["expired"]] == ["10.0.0.1"]
    assert ledger.expire(70_000)["expired"] == [] and ledger.next_expiry() is None
    assert [e["action"] for e in ledger.audit(10, None)] == ["expire", "block"]


def test_blocking_again_replaces_the_active_entry(ledger: Ledger) -> None:
    ledger.add({"target": "10.0.0.1", "ttl_s": 60}, 0)
    ledger.add({"target": "10.0.0.1", "ttl_s": 600}, 10)
    active = ledger.entries(20)
    assert [(b["target"], b["expires_ms"]) for b in active] == [("10.0.0.1", 600_010)]
    assert ledger.count_active(20) == {"block": 1}


def test_undo_removes_a_block_and_restores_a_removed_one(ledger: Ledger) -> None:
    made = ledger.add({"target": "10.0.0.1", "ttl_s": 600, "actor": "auto"}, 0)
    removed = ledger.remove(made["block"]["id"], "admin", "false positive", 5)
    assert ledger.entries(6) == []
    restored = ledger.undo(removed["audit"]["id"], "admin", 7)
    assert restored["audit"]["action"] == "restore" and ledger.entries(8) != []
    undone = ledger.undo(made["audit"]["id"], "admin", 9)
    assert undone["audit"]["action"] == "undo" and ledger.entries(10) == []
    with pytest.raises(LedgerError):
        ledger.undo(made["audit"]["id"], "admin", 11)  # already undone
    with pytest.raises(LedgerError) as missing:
        ledger.undo("aud-nope", "admin", 11)
    assert missing.value.missing


def test_bad_targets_and_kinds_are_refused(ledger: Ledger) -> None:
    for entry in ({"target": "example.com"}, {"target": "10.0.0.1", "kind": "maybe"}):
        with pytest.raises(LedgerError):
            ledger.add(entry, 0)
