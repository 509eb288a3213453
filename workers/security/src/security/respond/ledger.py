"""Blocks and allows, and the audit trail of every change to them, with undo.

The ledger is the authority; KV holds a projection the edge reads fast (see `projection`).
Every change - an automated block after an incident, an operator's block, an expiry, an
undo - is one audit entry naming who, what, why and when. Undoing an entry applies its
inverse and is itself audited, so the trail only ever grows.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import secrets
from typing import Any

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS blocks (id TEXT PRIMARY KEY, target TEXT NOT NULL, "
    "kind TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, created_ms INTEGER NOT NULL, "
    "expires_ms INTEGER, incident TEXT, actor TEXT NOT NULL, removed_ms INTEGER, "
    "removed_by TEXT, removed_reason TEXT)",
    "CREATE INDEX IF NOT EXISTS blocks_target ON blocks (target, removed_ms)",
    "CREATE TABLE IF NOT EXISTS audit (id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, "
    "actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, reason TEXT NOT NULL, "
    "block TEXT, detail TEXT NOT NULL, undone_by TEXT)",
    "CREATE INDEX IF NOT EXISTS audit_time ON audit (time_ms, id)",
)
KINDS = ("block", "allow")
UNDOABLE = ("block", "allow", "unblock")


class LedgerError(ValueError):
    """A request the ledger refuses: unknown entry, nothing to undo."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def canonical_target(target: str) -> str:
    """`203.0.113.7` or `203.0.113.0/24`; IPv4-mapped IPv6 becomes IPv4; host bits dropped."""
    text = target.strip()
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen == 128:
                return canonical_target(str(network.network_address))
            if isinstance(network, ipaddress.IPv4Network) and network.prefixlen == 32:
                return str(network.network_address)
            return str(network)
        address = ipaddress.ip_address(text)
    except ValueError:
        raise LedgerError(f"{target[:64]!r} is not an IP address or CIDR prefix") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


_sequence = itertools.count()


def _id(prefix: str, now_ms: int) -> str:
    """Sorts by time, then by order of creation within one millisecond; random tail."""
    return f"{prefix}-{now_ms:013x}{next(_sequence) % 0x10000:04x}{secrets.token_hex(2)}"


class Ledger:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        for statement in SCHEMA:
            sql.exec(statement)

    # --- changes ----------------------------------------------------------------------------
    def add(self, entry: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """Block or allow `target`; an active entry of the same kind is replaced (extended)."""
        kind = str(entry.get("kind", "block"))
        if kind not in KINDS:
            raise LedgerError(f"kind must be one of {', '.join(KINDS)}")
        target = canonical_target(str(entry["target"]))
        ttl = entry.get("ttl_s")
        expires = now_ms + int(ttl) * 1000 if ttl else None
        actor, reason = str(entry.get("actor", "admin")), str(entry.get("reason", ""))[:500]
        for old in self._active(target, kind, now_ms):
            self._remove_row(old["id"], now_ms, actor, "replaced")
        block = {
            "id": _id("blk", now_ms),
            "target": target,
            "kind": kind,
            "source": str(entry.get("source", "manual")),
            "reason": reason,
            "created_ms": now_ms,
            "expires_ms": expires,
            "incident": entry.get("incident"),
            "actor": actor,
        }
        self.sql.exec(
            "INSERT INTO blocks (id, target, kind, source, reason, created_ms, expires_ms, "
            "incident, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            block["id"],
            target,
            kind,
            block["source"],
            reason,
            now_ms,
            expires,
            block["incident"],
            actor,
        )
        audit = self._audit(
            now_ms,
            actor,
            kind,
            target,
            reason,
            str(block["id"]),
            {"source": block["source"], "expires_ms": expires, "incident": block["incident"]},
        )
        return {"block": _public(block, now_ms), "audit": audit}

    def remove(self, block_id: str, actor: str, reason: str, now_ms: int) -> dict[str, Any]:
        block = self._get(block_id)
        if block is None or block["removed_ms"] is not None:
            raise LedgerError(f"no active block or allow {block_id!r}", missing=True)
        self._remove_row(block_id, now_ms, actor, reason)
        audit = self._audit(
            now_ms,
            actor,
            "unblock" if block["kind"] == "block" else "unallow",
            str(block["target"]),
            reason,
            block_id,
            {"kind": block["kind"]},
        )
        return {"block": _public({**block, "removed_ms": now_ms}, now_ms), "audit": audit}

    def undo(self, audit_id: str, actor: str, now_ms: int) -> dict[str, Any]:
        rows = self.sql.exec("SELECT * FROM audit WHERE id = ?", audit_id).toArray()
        if not rows:
            raise LedgerError(f"no audit entry {audit_id!r}", missing=True)
        entry = _audit_row(rows[0])
        if entry["undone_by"] or entry["action"] not in UNDOABLE:
            raise LedgerError(f"audit entry {audit_id} ({entry['action']}) cannot be undone")
        block = self._get(str(entry["block"]))
        if block is None:
            raise LedgerError("the block this entry changed is gone", missing=True)
        reason = f"undo of {audit_id}"
        if entry["action"] == "unblock":
            remaining = None if block["expires_ms"] is None else block["expires_ms"] - now_ms
            if remaining is not None and remaining <= 0:
                raise LedgerError("the block would already have expired; nothing to restore")
            self.sql.exec(
                "UPDATE blocks SET removed_ms = NULL, removed_by = NULL, "
                "removed_reason = NULL WHERE id = ?",
                block["id"],
            )
            action = "restore"
        else:
            if block["removed_ms"] is None:
                self._remove_row(block["id"], now_ms, actor, reason)
            action = "undo"
        undo = self._audit(
            now_ms, actor, action, block["target"], reason, block["id"], {"undoes": audit_id}
        )
        self.sql.exec("UPDATE audit SET undone_by = ? WHERE id = ?", undo["id"], audit_id)
        return {"block": _public(self._get(block["id"]) or block, now_ms), "audit": undo}

    def expire(self, now_ms: int) -> dict[str, Any]:
        """Close blocks past their expiry (audited); return them and the next expiry."""
        rows = self.sql.exec(
            "SELECT * FROM blocks WHERE removed_ms IS NULL AND expires_ms IS NOT NULL "
            "AND expires_ms <= ?",
            now_ms,
        ).toArray()
        for row in rows:
            self.sql.exec(
                "UPDATE blocks SET removed_ms = ?, removed_by = 'ttl', "
                "removed_reason = 'expired' WHERE id = ?",
                row["expires_ms"],
                row["id"],
            )
            self._audit(
                now_ms,
                "ttl",
                "expire",
                row["target"],
                "expired",
                row["id"],
                {"expires_ms": row["expires_ms"]},
            )
        return {"expired": [_public(r, now_ms) for r in rows], "next_ms": self.next_expiry()}

    # --- reads ------------------------------------------------------------------------------
    def entries(
        self, now_ms: int, *, kind: str | None = None, active: bool = True, limit: int = 500
    ) -> list[dict[str, Any]]:
        where, params = ["1 = 1"], list[Any]()
        if active:
            where.append("removed_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?)")
            params.append(now_ms)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        rows = self.sql.exec(
            f"SELECT * FROM blocks WHERE {' AND '.join(where)} "  # noqa: S608 - fixed columns
            "ORDER BY created_ms DESC, id DESC LIMIT ?",
            *params,
            limit,
        ).toArray()
        return [_public(r, now_ms) for r in rows]

    def audit(self, limit: int, before: tuple[int, str] | None) -> list[dict[str, Any]]:
        if before is None:
            rows = self.sql.exec(
                "SELECT * FROM audit ORDER BY time_ms DESC, id DESC LIMIT ?", limit
            ).toArray()
        else:
            rows = self.sql.exec(
                "SELECT * FROM audit WHERE time_ms < ? OR (time_ms = ? AND id < ?) "
                "ORDER BY time_ms DESC, id DESC LIMIT ?",
                before[0],
                before[0],
                before[1],
                limit,
            ).toArray()
        return [_audit_row(r) for r in rows]

    def next_expiry(self) -> int | None:
        row = self.sql.exec(
            "SELECT min(expires_ms) AS t FROM blocks WHERE removed_ms IS NULL "
            "AND expires_ms IS NOT NULL"
        ).one()
        return None if row["t"] is None else int(row["t"])

    def count_active(self, now_ms: int) -> dict[str, int]:
        rows = self.sql.exec(
            "SELECT kind, count(*) AS n FROM blocks WHERE removed_ms IS NULL AND "
            "(expires_ms IS NULL OR expires_ms > ?) GROUP BY kind",
            now_ms,
        ).toArray()
        return {str(r["kind"]): int(r["n"]) for r in rows}

    # --- internals --------------------------------------------------------------------------
    def _active(self, target: str, kind: str, now_ms: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.sql.exec(
            "SELECT * FROM blocks WHERE target = ? AND kind = ? AND removed_ms IS NULL "
            "AND (expires_ms IS NULL OR expires_ms > ?)",
            target,
            kind,
            now_ms,
        ).toArray()
        return rows

    def _get(self, block_id: str) -> dict[str, Any] | None:
        rows = self.sql.exec("SELECT * FROM blocks WHERE id = ?", block_id).toArray()
        return rows[0] if rows else None

    def _remove_row(self, block_id: str, now_ms: int, actor: str, reason: str) -> None:
        self.sql.exec(
            "UPDATE blocks SET removed_ms = ?, removed_by = ?, removed_reason = ? WHERE id = ?",
            now_ms,
            actor,
            reason[:500],
            block_id,
        )

    def _audit(
        self,
        now_ms: int,
        actor: str,
        action: str,
        target: str,
        reason: str,
        block_id: str | None,
        detail: dict[str, Any],
    ) -> dict[str, Any]:
        entry = {
            "id": _id("aud", now_ms),
            "time_ms": now_ms,
            "actor": actor,
            "action": action,
            "target": target,
            "reason": reason,
            "block": block_id,
            "detail": detail,
            "undone_by": None,
        }
        self.sql.exec(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            entry["id"],
            now_ms,
            actor,
            action,
            target,
            reason,
            block_id,
            json.dumps(detail),
        )
        return entry


def _public(row: dict[str, Any], now_ms: int) -> dict[str, Any]:
    expires = row.get("expires_ms")
    removed = row.get("removed_ms")
    active = removed is None and (expires is None or expires > now_ms)
    return {
        "id": row["id"],
        "target": row["target"],
        "kind": row["kind"],
        "source": row["source"],
        "reason": row["reason"],
        "created_ms": row["created_ms"],
        "expires_ms": expires,
        "incident": row.get("incident"),
        "actor": row["actor"],
        "active": active,
        "removed_ms": removed,
    }


def _audit_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["detail"] = json.loads(row["detail"]) if row.get("detail") else {}
    return out
