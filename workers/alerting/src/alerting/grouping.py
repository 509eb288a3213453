"""What an aggregation group sends when its timer fires: Alertmanager's flush, as data.

A group's timer first fires `group_wait` after its first alert, then every `group_interval`.
On each tick the group's alerts are split into firing and resolved (muted firing alerts left
out) and compared with the last notification sent for the group (notify/notify.go
`DedupStage.needsUpdate`):

- never notified: send if anything fires;
- a firing alert that was not in the last notification: send;
- nothing fires any more: send once, if the last notification had firing alerts;
- a newly resolved alert (with `send_resolved`): send;
- otherwise only when `repeat_interval` has passed since the last notification.

One difference, because this stack has acknowledgement: a group whose firing alerts are all
acknowledged does not repeat. After the tick, resolved alerts leave the group; an empty group
is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Member:
    fingerprint: str
    firing: bool
    muted: bool = False
    acknowledged: bool = False


@dataclass(frozen=True)
class Entry:
    """The last notification of a group: which alerts it said were firing and resolved."""

    firing: frozenset[str]
    resolved: frozenset[str]
    at_ms: int

    def to_row(self) -> dict[str, object]:
        return {"firing": sorted(self.firing), "resolved": sorted(self.resolved), "at": self.at_ms}

    @staticmethod
    def from_row(row: dict[str, object] | None) -> Entry | None:
        if not row:
            return None
        firing, resolved, at = row.get("firing", []), row.get("resolved", []), row.get("at", 0)
        assert isinstance(firing, list) and isinstance(resolved, list) and isinstance(at, int)
        return Entry(frozenset(firing), frozenset(resolved), at)


@dataclass(frozen=True)
class Flush:
    reason: str | None  # None: nothing to send this tick
    firing: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    remove: tuple[str, ...] = field(default=())  # resolved alerts that leave the group

    @property
    def send(self) -> bool:
        return self.reason is not None


def needs_update(
    entry: Entry | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    *,
    all_acknowledged: bool,
    repeat_ms: int,
    now_ms: int,
    send_resolved: bool = True,
) -> str | None:
    """Why this tick must notify (Alertmanager's rules above), or None."""
    if entry is None:
        return "first_notification" if firing else None
    if not firing <= entry.firing:
        return "new_firing_alerts"
    if not firing:
        return "all_resolved" if entry.firing else None
    if send_resolved and not resolved <= entry.resolved:
        return "resolved_alerts"
    if all_acknowledged:
        return None
    return "repeat_interval" if entry.at_ms <= now_ms - repeat_ms else None


def flush(
    members: list[Member],
    entry: Entry | None,
    *,
    repeat_ms: int,
    now_ms: int,
    send_resolved: bool = True,
) -> Flush:
    """Decide one tick of a group."""
    firing = [x for x in members if x.firing and not x.muted]
    resolved = [x.fingerprint for x in members if not x.firing]
    reason = needs_update(
        entry,
        frozenset(x.fingerprint for x in firing),
        frozenset(resolved),
        all_acknowledged=bool(firing) and all(x.acknowledged for x in firing),
        repeat_ms=repeat_ms,
        now_ms=now_ms,
        send_resolved=send_resolved,
    )
    return Flush(
        reason,
        firing=tuple(x.fingerprint for x in firing) if reason else (),
        resolved=tuple(resolved) if reason else (),
        remove=tuple(resolved),
    )
