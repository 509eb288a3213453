"""A trace as a tree: depth, offsets, self time, critical path, orphans, clock skew (pure).

Clock skew: a child recorded by *another service* that starts before its parent or ends after
it is shifted, with its whole subtree, to sit inside the parent (centred when it is shorter,
as Jaeger's adjuster does; start-aligned when longer). The shift is reported per span
(`clock_skew_ms`) and the trace is flagged. Spans of one service share a clock and are never
moved. Orphans (parent not received yet) are kept as extra roots and flagged.

Critical path: from the end of the main root, walk back through the child that finished last
before the current point, then the one before it, recursively (Jaeger's definition); each
span's `critical_ms` is the time it alone held the path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from obs_schema.timespec import format_rfc3339

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
NS_PER_MS = 1_000_000


@dataclass(eq=False)
class Node:
    row: dict[str, Any]
    start: int
    end: int
    children: list[Node] = field(default_factory=list)
    depth: int = 0
    skew: int = 0
    orphan: bool = False
    critical: bool = False
    critical_ns: int = 0

    @property
    def service(self) -> str:
        return str(self.row["service"])


def build(rows: list[dict[str, Any]], summary: dict[str, Any] | None) -> dict[str, Any]:
    nodes = {row["span_id"]: Node(row, int(row["start_ns"]), int(row["end_ns"])) for row in rows}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.row["parent_id"]) if node.row["parent_id"] else None
        if parent is None:
            node.orphan = bool(node.row["parent_id"])
            roots.append(node)
        else:
            parent.children.append(node)
    roots.sort(key=lambda n: (n.orphan, n.start, n.row["span_id"]))
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.start, n.row["span_id"]))
    ordered = _ordered(roots, nodes)
    path: list[Node] = []
    if roots:
        main = max(roots, key=lambda n: (not n.orphan, n.end - n.start))
        _critical(main, path)
    return _document(ordered, roots, path, summary)


def _ordered(roots: list[Node], nodes: dict[str, Node]) -> list[Node]:
    """Every span in depth-first order, skew corrected; a parent cycle (spans naming each
    other as parent, which only broken instrumentation sends) is cut into an orphan root."""
    ordered: list[Node] = []
    seen: set[int] = set()
    pending = sorted(nodes.values(), key=lambda n: (n.start, n.row["span_id"]))
    queue = list(roots)
    while queue or len(seen) < len(nodes):
        if not queue:  # a cycle left unvisited: cut it at its earliest span
            cut = next(n for n in pending if id(n) not in seen)
            parent = nodes[cut.row["parent_id"]]
            parent.children.remove(cut)
            cut.orphan = True
            roots.append(cut)
            queue.append(cut)
        root = queue.pop(0)
        stack = [(root, 0)]
        while stack:  # iterative: a trace may nest deeper than Python's recursion limit
            node, depth = stack.pop()
            node.depth = depth
            seen.add(id(node))
            ordered.append(node)
            _correct_skew(node)
            stack.extend((child, depth + 1) for child in reversed(node.children))
    return ordered


def _correct_skew(parent: Node) -> None:
    """Move `parent`'s children by its shift, then inside it if another service's clock put
    them outside (their own children follow when they are visited)."""
    for child in parent.children:
        child.start += parent.skew
        child.end += parent.skew
        child.skew = parent.skew
        outside = child.start < parent.start or child.end > parent.end
        if outside and child.service != parent.service:
            length, room = child.end - child.start, parent.end - parent.start
            target = parent.start + (room - length) // 2 if length <= room else parent.start
            child.skew += target - child.start
            child.start, child.end = target, target + length
    parent.children.sort(key=lambda n: (n.start, n.row["span_id"]))


def _critical(main: Node, path: list[Node]) -> None:
    """Jaeger's critical path, with an explicit stack: [node, cursor, held, children, next]."""

    def enter(node: Node, cursor: int) -> list[Any]:
        node.critical = True
        path.append(node)
        cursor = min(cursor, node.end)
        by_end = sorted(node.children, key=lambda n: n.end, reverse=True)
        return [node, cursor, cursor - node.start, by_end, 0]

    stack = [enter(main, main.end)]
    while stack:
        frame = stack[-1]
        node, cursor, children = frame[0], frame[1], frame[3]
        entered = False
        while frame[4] < len(children) and cursor > node.start:
            child = children[frame[4]]
            frame[4] += 1
            if child.start >= cursor or child.end <= node.start:
                continue
            frame[2] -= min(child.end, cursor) - max(child.start, node.start)
            frame[1] = child.start  # where the path continues once the child is walked
            stack.append(enter(child, cursor))
            entered = True
            break
        if not entered:
            node.critical_ns = max(0, frame[2])
            stack.pop()


def _self_time(node: Node) -> int:
    covered, reach = 0, node.start
    for child in node.children:  # sorted by start: merge overlapping child intervals
        start, end = max(child.start, reach), min(child.end, node.end)
        if end > start:
            covered += end - start
            reach = end
    return max(0, node.end - node.start - covered)


def _document(
    ordered: list[Node], roots: list[Node], path: list[Node], summary: dict[str, Any] | None
) -> dict[str, Any]:
    start = min((n.start for n in ordered), default=0)
    end = max((n.end for n in ordered), default=0)
    main = path[0] if path else None
    return {
        "trace_id": ordered[0].row["trace_id"] if ordered else (summary or {}).get("trace_id"),
        "start": format_rfc3339(start / 1e9) if ordered else None,
        "start_unix_nano": start,
        "duration_ms": (end - start) / NS_PER_MS,
        "span_count": len(ordered),
        "error_count": sum(1 for n in ordered if n.row["error"]),
        "services": sorted({n.service for n in ordered}),
        "root": None if main is None else {"service": main.service, "name": main.row["name"]},
        "orphan_count": sum(1 for n in roots if n.orphan),
        "clock_skew_corrected": any(n.skew for n in ordered),
        "critical_path": [n.row["span_id"] for n in path],
        "spans": [_span(n, start) for n in ordered],
    }


def _span(node: Node, trace_start: int) -> dict[str, Any]:
    row = node.row
    extra = json.loads(row["extra"]) if row.get("extra") else {}
    return {
        "span_id": row["span_id"],
        "parent_span_id": row["parent_id"] or None,
        "depth": node.depth,
        "offset_ms": (node.start - trace_start) / NS_PER_MS,
        "duration_ms": (node.end - node.start) / NS_PER_MS,
        "self_time_ms": _self_time(node) / NS_PER_MS,
        "name": row["name"],
        "kind": KINDS[row["kind"]] if 0 <= row["kind"] < len(KINDS) else "unspecified",
        "service": row["service"],
        "route": row["route"],
        "status": {"code": STATUSES[row["status"]], "message": extra.get("status_message", "")},
        "error": bool(row["error"]),
        "orphan": node.orphan,
        "critical_path": node.critical,
        "critical_ms": node.critical_ns / NS_PER_MS,
        "clock_skew_ms": node.skew / NS_PER_MS,
        "children": [child.row["span_id"] for child in node.children],
        "attributes": json.loads(row["attributes"]) if row.get("attributes") else {},
        "resource": json.loads(row["resource"]) if row.get("resource") else {},
        "events": [
            {**event, "offset_ms": (int(event["time_unix_nano"]) + node.skew - trace_start) / 1e6}
            for event in extra.get("events", [])
        ],
        "links": extra.get("links", []),
        "scope": extra.get("scope", ""),
    }
