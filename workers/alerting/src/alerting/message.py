"""What a notification says, before any provider's format: the content every channel renders.

A `Message` is built when a group flushes or an escalation level fires, stored with the
notification (so every retry sends the same content), and rendered by a channel module into
its provider's exact payload at send time. It carries no secret: provider URLs and keys are
resolved from configuration and secrets only when the request is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from obs_schema.timespec import format_rfc3339

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's endsAt of a firing alert


@dataclass(frozen=True)
class AlertView:
    fingerprint: str
    name: str
    status: str  # firing | resolved
    severity: str
    labels: dict[str, str]
    annotations: dict[str, Any]
    starts_ms: int
    ends_ms: int | None = None
    source: str = ""
    generator_url: str = ""
    acknowledged_by: str | None = None
    url: str = ""  # this alert in the API
    ack_url: str = ""  # signed one-click links
    resolve_url: str = ""

    @property
    def summary(self) -> str:
        text = self.annotations.get("summary") or self.annotations.get("description") or ""
        return str(text) or self.name

    @property
    def starts_at(self) -> str:
        return format_rfc3339(self.starts_ms / 1000)

    @property
    def ends_at(self) -> str:
        """RFC 3339; Go's zero time while firing, as Alertmanager sends it."""
        if self.status == "firing" or self.ends_ms is None:
            return ZERO_TIME
        return format_rfc3339(self.ends_ms / 1000)

    def string_annotations(self) -> dict[str, str]:
        """Annotations as Alertmanager carries them: strings only (links flattened)."""
        out: dict[str, str] = {}
        for key, value in self.annotations.items():
            if value in (None, "", []):
                continue
            if key == "links" and isinstance(value, list):
                out[key] = " ".join(str(link.get("url", "")) for link in value)
            else:
                out[key] = str(value)
        return out

    def links(self) -> list[dict[str, str]]:
        found = []
        if self.annotations.get("runbook_url"):
            found.append({"url": str(self.annotations["runbook_url"]), "text": "Runbook"})
        for link in self.annotations.get("links") or []:
            if isinstance(link, Mapping) and link.get("url"):
                found.append({"url": str(link["url"]), "text": str(link.get("text") or "Link")})
        if self.generator_url:
            found.append({"url": self.generator_url, "text": "Source"})
        return found


@dataclass(frozen=True)
class Message:
    receiver: str
    status: str  # firing if any alert fires, else resolved
    group_key: str
    group_labels: dict[str, str]
    alerts: tuple[AlertView, ...]
    reason: str
    external_url: str = ""
    kind: str = "group"  # group | escalation | acknowledge
    escalation_level: int | None = None
    incident_id: int | None = None
    incident_url: str = ""
    target: str = ""  # a person, for escalations to people
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def firing(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "resolved"]

    def common_labels(self) -> dict[str, str]:
        return _common([a.labels for a in self.alerts])

    def common_annotations(self) -> dict[str, str]:
        return _common([a.string_annotations() for a in self.alerts])

    def title(self) -> str:
        """`[FIRING:2] HighErrorRate api`: Alertmanager's default title."""
        count = len(self.firing) if self.status == "firing" else len(self.resolved)
        values = " ".join(self.group_labels[k] for k in sorted(self.group_labels))
        name = values or (self.alerts[0].name if self.alerts else "")
        prefix = {"acknowledge": "ACKNOWLEDGED", "escalation": "ESCALATED"}.get(self.kind)
        label = prefix or self.status.upper()
        level = f" L{self.escalation_level + 1}" if self.escalation_level is not None else ""
        return f"[{label}{level}:{count}] {name}".strip()

    def only(self, alerts: list[AlertView]) -> Message:
        status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
        return Message(**{**self._fields(), "alerts": tuple(alerts), "status": status})

    def _fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["alerts"] = [asdict(a) for a in self.alerts]
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Message:
        fields = dict(data)
        fields["alerts"] = tuple(AlertView(**a) for a in data.get("alerts", []))
        return Message(**fields)


def _common(label_sets: list[dict[str, str]]) -> dict[str, str]:
    if not label_sets:
        return {}
    first = label_sets[0]
    return {k: v for k, v in first.items() if all(s.get(k) == v for s in label_sets[1:])}
