"""The alerting configuration: routes, receivers, inhibition, escalation, on-call, providers.

One JSON document, shaped like Alertmanager's configuration where Alertmanager has the concept
(`route`, `receivers` with `<kind>_configs`, `inhibit_rules`, `global.resolve_timeout`) and
extended where it does not (`escalation_policies`, `schedules`, `people`, `global.email`,
`global.sms`, `global.delivery`). Every reference is checked (a route's receiver, a policy's
targets, a schedule's people) and every problem reported at once. Secret settings are either
literals, stored only inside the Durable Object and read back as `<redacted>`, or
`{"secret": "ENV_NAME"}` references to Worker secrets; a document read back with `<redacted>`
values can be sent again unchanged and keeps the stored literals.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from alerting import escalation, inhibition, oncall, redaction, routing, timeintervals
from alerting.backoff import Backoff
from alerting.channels import CHANNELS
from alerting.channels import email as email_channel
from alerting.channels import sms as sms_channel
from alerting.problems import Invalid, Problems, duration_ms, listing, mapping, text, unknown_keys

_TOP = {"global", "route", "receivers", "inhibit_rules", "escalation_policies", "schedules"}
_TOP |= {"people", "time_intervals"}
_GLOBAL = {"resolve_timeout", "external_url", "email", "sms", "delivery"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
MAX_RECEIVERS = 200
MAX_INTEGRATIONS = 20

DEFAULT_DOCUMENT: dict[str, Any] = {
    "route": {"receiver": "default", "group_by": ["alertname", "service"]},
    "receivers": [{"name": "default"}],
}


@dataclass(frozen=True)
class Integration:
    receiver: str
    kind: str
    index: int
    settings: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"{self.receiver}/{self.kind}/{self.index}"


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Delivery:
    backoff: Backoff = field(default_factory=Backoff)
    timeout_ms: int = 10_000


@dataclass(frozen=True)
class AlertingConfig:
    route: routing.Route
    receivers: Mapping[str, tuple[Integration, ...]]
    inhibit_rules: tuple[inhibition.InhibitRule, ...] = ()
    policies: Mapping[str, escalation.Policy] = field(default_factory=dict)
    schedules: Mapping[str, oncall.Schedule] = field(default_factory=dict)
    people: Mapping[str, Person] = field(default_factory=dict)
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    resolve_timeout_ms: int = 300_000
    external_url: str = ""
    delivery: Delivery = field(default_factory=Delivery)
    document: Mapping[str, Any] = field(default_factory=dict)
    time_intervals: Mapping[str, timeintervals.TimeInterval] = field(default_factory=dict)

    def integration(self, key: str) -> Integration | None:
        receiver, _, _ = key.partition("/")
        return next((i for i in self.receivers.get(receiver, ()) if i.key == key), None)

    def route_for(self, key: str) -> routing.Route | None:
        return next((r for r in self.route.walk() if r.key == key), None)

    def time_muted(self, route: routing.Route | None, at_ms: int) -> bool:
        """Is this route outside its active intervals, or inside a mute interval, now?"""
        if route is None:
            return False
        known = self.time_intervals
        if any(known[n].contains(at_ms) for n in route.mute_time_intervals if n in known):
            return True
        active = [known[n] for n in route.active_time_intervals if n in known]
        return bool(active) and not any(i.contains(at_ms) for i in active)

    def redacted(self) -> dict[str, Any]:
        """The document as the API shows it: literal secrets replaced by `<redacted>`."""
        return redaction.redacted(self.document)


def parse(document: object, previous: Mapping[str, Any] | None = None) -> AlertingConfig:
    """Validate a whole configuration document; `Invalid` lists every problem."""
    problems = Problems()
    data = problems.check(lambda: mapping(document, "the configuration"))
    problems.raise_if_any()
    assert data is not None
    data = redaction.restore(copy.deepcopy(dict(data)), previous or {})
    unknown_keys(data, _TOP, problems)
    people = _people(data.get("people", []), problems)
    receivers = _receivers(data.get("receivers", []), problems)
    route = routing.parse_route(data.get("route"), problems)
    config = AlertingConfig(
        route=route or routing.Route("{}", "default", ("alertname",), 0, 1, 0),
        receivers=receivers,
        inhibit_rules=inhibition.parse_rules(data.get("inhibit_rules"), problems),
        policies={
            p.name: p for p in escalation.parse_policies(data.get("escalation_policies"), problems)
        },
        schedules={
            s.name: s for s in oncall.parse_schedules(data.get("schedules"), set(people), problems)
        },
        people=people,
        document=data,
        time_intervals=timeintervals.parse_intervals(data.get("time_intervals"), problems),
        **_globals(data.get("global", {}), problems),
    )
    _check_references(config, data.get("route"), problems)
    problems.raise_if_any()
    return config


def default() -> AlertingConfig:
    return parse(DEFAULT_DOCUMENT)


def _globals(raw: object, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with problems.at("global"):
        data = problems.check(lambda: mapping(raw, "global")) or {}
        unknown_keys(data, _GLOBAL, problems)
        timeout = problems.check(
            lambda: duration_ms(data.get("resolve_timeout", "5m")), "resolve_timeout"
        )
        out["resolve_timeout_ms"] = timeout if timeout is not None else 300_000
        url = data.get("external_url", "")
        if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
            problems.add("must be the stack's public http(s) URL", "external_url")
        out["external_url"] = url.rstrip("/") if isinstance(url, str) else ""
        providers: dict[str, Mapping[str, Any]] = {}
        for name, parser in (
            ("email", email_channel.parse_provider),
            ("sms", sms_channel.parse_provider),
        ):
            if data.get(name) is not None:
                with problems.at(name):
                    section = problems.check(partial(mapping, data[name], name))
                    if section is not None:
                        providers[name] = parser(section, problems)
        out["providers"] = providers
        out["delivery"] = _delivery(data.get("delivery", {}), problems)
    return out


def _delivery(raw: object, problems: Problems) -> Delivery:
    with problems.at("delivery"):
        data = problems.check(lambda: mapping(raw, "delivery")) or {}
        unknown_keys(data, {"max_attempts", "backoff", "max_backoff", "timeout"}, problems)
        attempts = data.get("max_attempts", 8)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 20:
            problems.add("must be a whole number from 1 to 20", "max_attempts")
            attempts = 8
        base = problems.check(lambda: duration_ms(data.get("backoff", "5s")), "backoff") or 5000
        cap = (
            problems.check(lambda: duration_ms(data.get("max_backoff", "10m")), "max_backoff")
            or 600_000
        )
        timeout = (
            problems.check(lambda: duration_ms(data.get("timeout", "10s")), "timeout") or 10_000
        )
        if timeout > 60_000:
            problems.add("at most 60s", "timeout")
        return Delivery(Backoff(max(1, base), max(base, cap), attempts), min(timeout, 60_000))


def _receivers(raw: object, problems: Problems) -> dict[str, tuple[Integration, ...]]:
    found: dict[str, tuple[Integration, ...]] = {}
    with problems.at("receivers"):
        items = problems.check(lambda: listing(raw, "receivers")) or []
        if len(items) > MAX_RECEIVERS:
            problems.add(f"at most {MAX_RECEIVERS} receivers")
        for index, item in enumerate(items):
            with problems.at(index):
                name, integrations = _receiver(item, problems)
                if name in found:
                    problems.add("a receiver with this name already exists", "name")
                if name is not None:
                    found[name] = integrations
    return found


def _receiver(item: object, problems: Problems) -> tuple[str | None, tuple[Integration, ...]]:
    data = problems.check(lambda: mapping(item, "a receiver"))
    if data is None:
        return None, ()
    unknown_keys(data, {"name"} | {f"{kind}_configs" for kind in CHANNELS}, problems)
    name = problems.check(lambda: _name(data.get("name")), "name")
    integrations: list[Integration] = []
    for kind, channel in CHANNELS.items():
        field_name = f"{kind}_configs"
        items = (
            problems.check(partial(listing, data.get(field_name, []), field_name), field_name) or []
        )
        for index, raw in enumerate(items[:MAX_INTEGRATIONS]):
            with problems.at(field_name, index):
                section = problems.check(partial(mapping, raw, "an integration"))
                if section is not None:
                    settings = channel.parse_settings(section, problems)
                    integrations.append(Integration(name or "", kind, index, settings))
    return name, tuple(integrations)


def _name(value: object) -> str:
    name = text(value, "name", max_chars=128)
    if not _NAME.fullmatch(name):
        raise ValueError("names use letters, digits and _ . : @ - (no spaces or slashes)")
    return name


def _people(raw: object, problems: Problems) -> dict[str, Person]:
    found: dict[str, Person] = {}
    with problems.at("people"):
        items = problems.check(lambda: listing(raw, "people")) or []
        for index, item in enumerate(items):
            with problems.at(index):
                data = problems.check(partial(mapping, item, "a person"))
                if data is None:
                    continue
                unknown_keys(data, {"name", "email", "phone"}, problems)
                name = problems.check(partial(_name, data.get("name")), "name")
                email, phone = data.get("email"), data.get("phone")
                if email is not None and not (
                    isinstance(email, str) and email_channel.ADDRESS.fullmatch(email)
                ):
                    problems.add("must be an email address", "email")
                if phone is not None and not (
                    isinstance(phone, str) and sms_channel.E164.fullmatch(phone)
                ):
                    problems.add("must be an E.164 phone number", "phone")
                if name is not None:
                    found[name] = Person(name, email, phone)
    return found


def _check_references(config: AlertingConfig, route: object, problems: Problems) -> None:
    for loc, node in _raw_routes(route, ("route",)):
        receiver, policy = node.get("receiver"), node.get("escalation")
        if isinstance(receiver, str) and receiver not in config.receivers:
            problems.add(f"no receiver is named {receiver!r}", *loc, "receiver")
        if isinstance(policy, str) and policy not in config.policies:
            problems.add(f"no escalation policy is named {policy!r}", *loc, "escalation")
        for field_name in ("mute_time_intervals", "active_time_intervals"):
            names = node.get(field_name) or []
            if loc == ("route",) and names:
                problems.add("the root route cannot have time intervals", *loc, field_name)
            for name in names if isinstance(names, list) else []:
                if isinstance(name, str) and name not in config.time_intervals:
                    problems.add(f"no time interval is named {name!r}", *loc, field_name)
    known = {"receiver": config.receivers, "person": config.people, "schedule": config.schedules}
    for policy in config.policies.values():
        for number, level in enumerate(policy.levels):
            for target in level.targets:
                if target.name not in known[target.kind]:
                    problems.add(
                        f"policy {policy.name!r} level {number + 1} names an unknown "
                        f"{target.kind} {target.name!r}",
                        "escalation_policies",
                    )


def _raw_routes(
    node: object, loc: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """Every route object of a (possibly invalid) tree, with its place."""
    if not isinstance(node, Mapping):
        return []
    found = [(loc, node)]
    children = node.get("routes")
    for index, child in enumerate(children if isinstance(children, list) else []):
        found += _raw_routes(child, (*loc, "routes", index))
    return found


__all__ = ["AlertingConfig", "Integration", "Invalid", "Person", "default", "parse"]
