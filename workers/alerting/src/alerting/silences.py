"""Silences: label matchers plus a time window during which matching alerts stay quiet.

Alertmanager API v2 semantics (`postableSilence`): `matchers` (at least one), `startsAt`,
`endsAt`, `createdBy`, `comment`; state `pending` before the window, `active` inside it,
`expired` after. An alert is silenced only when it matches *all* matchers. As Alertmanager
refuses them, a silence whose matchers all match the empty string (it would mute everything)
and one that already ended are rejected. Expiring a silence moves its end to now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from alerting import matchers as m
from alerting.problems import Problems, duration_ms, listing, mapping, text
from obs_schema.timespec import TimeSpecError, format_rfc3339, parse_instant

MAX_MATCHERS = 32
MAX_COMMENT_CHARS = 4096
MAX_DURATION_MS = 366 * 86_400_000


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[m.Matcher, ...]
    starts_ms: int
    ends_ms: int
    created_by: str
    comment: str
    updated_ms: int

    def state(self, now_ms: int) -> str:
        if now_ms < self.starts_ms:
            return "pending"
        return "active" if now_ms < self.ends_ms else "expired"

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> bool:
        return self.state(now_ms) == "active" and m.match_all(self.matchers, labels)

    def expired_at(self, now_ms: int) -> Silence:
        """Alertmanager's expire: a pending silence ends before it starts, an active one now."""
        starts = min(self.starts_ms, now_ms)
        return replace(self, starts_ms=starts, ends_ms=now_ms, updated_ms=now_ms)

    def to_api(self, now_ms: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": {"state": self.state(now_ms)},
            "updatedAt": format_rfc3339(self.updated_ms / 1000),
            "matchers": [x.to_api() for x in self.matchers],
            "matchers_text": [str(x) for x in self.matchers],
            "startsAt": format_rfc3339(self.starts_ms / 1000),
            "endsAt": format_rfc3339(self.ends_ms / 1000),
            "createdBy": self.created_by,
            "comment": self.comment,
        }

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": [x.to_api() for x in self.matchers],
            "starts_ms": self.starts_ms,
            "ends_ms": self.ends_ms,
            "created_by": self.created_by,
            "comment": self.comment,
            "updated_ms": self.updated_ms,
        }

    @staticmethod
    def from_row(row: Mapping[str, Any]) -> Silence:
        return Silence(
            id=row["id"],
            matchers=m.parse_all(row["matchers"]),
            starts_ms=int(row["starts_ms"]),
            ends_ms=int(row["ends_ms"]),
            created_by=row["created_by"],
            comment=row["comment"],
            updated_ms=int(row["updated_ms"]),
        )


def parse(data: object, silence_id: str, now_ms: int) -> Silence:
    """A new or updated silence from an API body (camelCase, or snake_case)."""
    problems = Problems()
    body = problems.check(lambda: mapping(data, "the silence"))
    if body is None:
        problems.raise_if_any()
        raise AssertionError("unreachable")
    found = _matchers(body.get("matchers"), problems)
    starts = _instant(body, ("startsAt", "starts_at"), now_ms, now_ms, problems)
    ends = _ends(body, starts, now_ms, problems)
    created_by = problems.check(
        lambda: text(body.get("createdBy", body.get("created_by")), "createdBy"), "createdBy"
    )
    comment = problems.check(
        lambda: text(body.get("comment"), "comment", max_chars=MAX_COMMENT_CHARS), "comment"
    )
    if starts is not None and ends is not None:
        if ends <= starts:
            problems.add("endsAt must be after startsAt", "endsAt")
        elif ends <= now_ms:
            problems.add("endsAt is in the past; the silence would never be active", "endsAt")
        elif ends - starts > MAX_DURATION_MS:
            problems.add("a silence lasts at most 366 days", "endsAt")
    problems.raise_if_any()
    assert starts is not None and ends is not None and created_by and comment
    return Silence(silence_id, found, starts, ends, created_by, comment, now_ms)


def _matchers(value: object, problems: Problems) -> tuple[m.Matcher, ...]:
    items = problems.check(lambda: listing(value, "matchers"), "matchers")
    if items is None:
        return ()
    if not items:
        problems.add("at least one matcher is required", "matchers")
    if len(items) > MAX_MATCHERS:
        problems.add(f"at most {MAX_MATCHERS} matchers", "matchers")
    found = []
    for index, item in enumerate(items[:MAX_MATCHERS]):
        matcher = problems.check(partial(m.parse_any, item), "matchers", index)
        if matcher is not None:
            found.append(matcher)
    if found and all(x.matches({}) for x in found):
        problems.add(
            "at least one matcher must not match the empty string (it would mute every alert)",
            "matchers",
        )
    return tuple(found)


def _instant(
    body: Mapping[str, Any],
    names: tuple[str, str],
    default: int | None,
    now_ms: int,
    problems: Problems,
) -> int | None:
    value = next((body[n] for n in names if body.get(n) is not None), None)
    if value is None:
        if default is None:
            problems.add("is required (RFC 3339), or give a duration", names[0])
        return default
    try:
        return round(parse_instant(value, now_ms / 1000) * 1000)
    except (TimeSpecError, TypeError) as error:
        problems.add(str(error), names[0])
        return None


def _ends(
    body: Mapping[str, Any], starts: int | None, now_ms: int, problems: Problems
) -> int | None:
    """`endsAt`, or `duration` (`2h`) counted from the start."""
    if body.get("duration") is not None:
        span = problems.check(lambda: duration_ms(body["duration"], "duration"), "duration")
        return None if span is None or starts is None else starts + span
    return _instant(body, ("endsAt", "ends_at"), None, now_ms, problems)
