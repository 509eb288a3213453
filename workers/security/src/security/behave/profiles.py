"""Behavioural state per subject, and the anomalies each new observation reveals.

Three subjects: a source IP (request rate, 4xx bursts, failed logins across accounts, walks
over sequential ids), a login account (failures from many sources) and a user (countries,
networks and the last place seen). State is a plain dict so a Durable Object can store it
as JSON; every function takes `now_ms` and returns the anomalies found, each carrying the
numbers and the baseline it was judged on. An anomaly type is raised at most once per
`cooldown` per subject, so an ongoing attack makes one event, not one per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from security.behave import geo
from security.behave.baseline import spike

MINUTE_MS = 60_000
HISTORY_MINUTES = 60
_ID_SEGMENT = re.compile(r"/(\d{1,18})(?=/|$)")

State = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Thresholds:
    spike_k: float = 6.0  # robust sigmas above the median
    spike_floor: int = 120  # requests per minute below which nothing is a spike
    min_samples: int = 10  # minutes of history before a baseline judges
    scan_floor: int = 20  # 4xx answers in a minute before a burst counts
    scan_ratio: float = 0.5  # and at least this share of the minute's answers
    stuffing_accounts: int = 10  # distinct accounts failing from one source
    stuffing_sources: int = 10  # distinct sources failing on one account
    login_window_ms: int = 10 * MINUTE_MS
    enumeration_ids: int = 20  # distinct ids walked
    enumeration_window_ms: int = 5 * MINUTE_MS
    sequential_share: float = 0.8  # of gaps between sorted ids that are exactly 1
    location_min_samples: int = 5  # sightings before a new country or network is news
    travel_kmh: float = 1000.0  # faster than an airliner
    travel_min_km: float = 500.0
    cooldown_ms: int = 10 * MINUTE_MS


@dataclass(slots=True)
class Anomaly:
    type: str
    score: int
    detail: dict[str, Any] = field(default_factory=dict)


SCORES = {
    "request_spike": 10,
    "scanning": 10,
    "credential_stuffing": 25,
    "enumeration": 15,
    "new_location": 5,
    "impossible_travel": 15,
}


def _cooled(state: State, kind: str, now_ms: int, t: Thresholds) -> bool:
    """True (and the clock restarted) if `kind` may be raised again for this subject."""
    raised = state.setdefault("raised", {})
    if now_ms - int(raised.get(kind, -(10**15))) < t.cooldown_ms:
        return False
    raised[kind] = now_ms
    return True


def _bump_minute(series: dict[str, int], minute: int, by: int = 1) -> None:
    key = str(minute)
    known = series.get(key)
    series[key] = (known or 0) + by
    if known is None:  # a new minute: older ones may have left the history (checked once)
        for stale in [k for k in series if int(k) <= minute - HISTORY_MINUTES]:
            del series[stale]


def _history(series: dict[str, int], minute: int, first_minute: int) -> list[float]:
    """Counts of every complete minute since the subject was first seen (zeros included)."""
    start = max(first_minute, minute - HISTORY_MINUTES + 1)
    return [float(series.get(str(m), 0)) for m in range(start, minute)]


# --- source IP ---------------------------------------------------------------------------


def observe_request(
    state: State, now_ms: int, path: str, route: str, t: Thresholds
) -> list[Anomaly]:
    minute = now_ms // MINUTE_MS
    state.setdefault("first_minute", minute)
    series = state.setdefault("requests", {})
    _bump_minute(series, minute)
    found = []
    current = series[str(minute)]
    burst, found_new, history = None, False, []
    if current > t.spike_floor:  # below the floor (at least 1) nothing is a spike
        history = _history(series, minute, int(state["first_minute"]))
        burst = spike(history, current, k=t.spike_k, floor=t.spike_floor, min_samples=t.min_samples)
        # No baseline yet, but far past any human rate: a spike all the same.
        found_new = burst is not None or (
            len(history) < t.min_samples and current > 3 * t.spike_floor
        )
    if found_new and _cooled(state, "request_spike", now_ms, t):
        detail: dict[str, Any] = {"per_minute": current, "floor": t.spike_floor}
        if burst is not None:
            detail.update(
                threshold=round(burst.threshold, 1),
                baseline=burst.baseline.describe(),
                samples=burst.baseline.samples,
            )
        else:
            detail.update(samples=len(history), baseline="too few samples; hard ceiling")
        found.append(Anomaly("request_spike", SCORES["request_spike"], detail))
    walked = _enumeration(state, now_ms, path, route, t)
    if walked is not None and _cooled(state, "enumeration", now_ms, t):
        found.append(walked)
    return found


def _enumeration(state: State, now_ms: int, path: str, route: str, t: Thresholds) -> Anomaly | None:
    matched = _ID_SEGMENT.findall(path)
    if not matched:
        return None
    template = _ID_SEGMENT.sub("/{n}", path) if route == path or not route else route
    walks = state.setdefault("ids", {})
    seen = [(ms, n) for ms, n in walks.get(template, []) if now_ms - ms <= t.enumeration_window_ms]
    seen.append((now_ms, int(matched[-1])))
    walks[template] = seen[-4 * t.enumeration_ids :]
    for stale in [k for k, v in walks.items() if v and now_ms - v[-1][0] > t.enumeration_window_ms]:
        del walks[stale]
    ids = sorted({n for _, n in seen})
    if len(ids) < t.enumeration_ids:
        return None
    gaps = [b - a for a, b in pairwise(ids)]
    share = sum(1 for g in gaps if g == 1) / len(gaps)
    if share < t.sequential_share:
        return None
    return Anomaly(
        "enumeration",
        SCORES["enumeration"],
        {
            "route": template[:200],
            "distinct_ids": len(ids),
            "sequential_share": round(share, 2),
            "first_id": ids[0],
            "last_id": ids[-1],
            "samples": len(seen),
        },
    )


def observe_outcome(
    state: State,
    now_ms: int,
    status: int,
    account: str | None,
    success: bool | None,
    t: Thresholds,
    subject: str = "ip",
) -> list[Anomaly]:
    """An answer the caller sent to this subject (a source IP, or a signed-in user)."""
    minute = now_ms // MINUTE_MS
    state.setdefault("first_minute", minute)
    _bump_minute(state.setdefault("answers", {}), minute)
    errors = state.setdefault("client_errors", {})
    if 400 <= status < 500:
        _bump_minute(errors, minute)
    found = []
    burst = _scanning(state, minute, t)
    if burst is not None and _cooled(state, "scanning", now_ms, t):
        burst.detail["subject"] = subject
        found.append(burst)
    if account is not None and success is not None:
        stuffing = _login_failures(state, now_ms, account, success, t)
        if stuffing is not None and _cooled(state, "credential_stuffing", now_ms, t):
            found.append(stuffing)
    return found


def _scanning(state: State, minute: int, t: Thresholds) -> Anomaly | None:
    errors, answers = state["client_errors"], state["answers"]
    current, total = errors.get(str(minute), 0), answers.get(str(minute), 0)
    if current < t.scan_floor or current < t.scan_ratio * total:
        return None
    history = _history(errors, minute, int(state["first_minute"]))
    burst = spike(history, current, k=t.spike_k, floor=t.scan_floor, min_samples=t.min_samples)
    if burst is None and len(history) >= t.min_samples:
        return None  # this source always errs this much: a broken client, not a scan
    detail: dict[str, Any] = {"client_errors_per_minute": current, "answers": total}
    if burst is not None:
        detail.update(baseline=burst.baseline.describe(), samples=burst.baseline.samples)
    else:
        detail.update(samples=len(history), baseline="too few samples; floor applied")
    return Anomaly("scanning", SCORES["scanning"], detail)


def _login_failures(
    state: State, now_ms: int, account: str, success: bool, t: Thresholds
) -> Anomaly | None:
    logins = [x for x in state.get("logins", []) if now_ms - x[0] <= t.login_window_ms]
    logins.append([now_ms, account, success])
    state["logins"] = logins[-500:]
    failed = {a for _, a, ok in logins if not ok}
    succeeded = sum(1 for _, _, ok in logins if ok)
    if len(failed) < t.stuffing_accounts or succeeded > 0.2 * len(logins):
        return None
    return Anomaly(
        "credential_stuffing",
        SCORES["credential_stuffing"],
        {
            "direction": "one source, many accounts",
            "accounts_failed": len(failed),
            "attempts": len(logins),
            "successes": succeeded,
            "window_s": t.login_window_ms // 1000,
        },
    )


# --- login account -----------------------------------------------------------------------


def observe_account_failure(state: State, now_ms: int, ip: str, t: Thresholds) -> list[Anomaly]:
    failures = [x for x in state.get("failures", []) if now_ms - x[0] <= t.login_window_ms]
    failures.append([now_ms, ip])
    state["failures"] = failures[-500:]
    sources = {source for _, source in failures}
    if len(sources) < t.stuffing_sources or not _cooled(state, "credential_stuffing", now_ms, t):
        return []
    return [
        Anomaly(
            "credential_stuffing",
            SCORES["credential_stuffing"],
            {
                "direction": "one account, many sources",
                "sources": len(sources),
                "failures": len(failures),
                "window_s": t.login_window_ms // 1000,
            },
        )
    ]


# --- user --------------------------------------------------------------------------------


def observe_location(
    state: State,
    now_ms: int,
    country: str | None,
    asn: int | None,
    lat: float | None,
    lon: float | None,
    t: Thresholds,
) -> list[Anomaly]:
    found: list[Anomaly] = []
    countries: dict[str, int] = state.setdefault("countries", {})
    networks: dict[str, int] = state.setdefault("asns", {})
    samples = int(state.get("samples", 0))
    here = geo.place(country, lat, lon)
    last = state.get("last")
    if here is not None and last is not None:
        travel = _travel(last, here, now_ms, country, t)
        if travel is not None and _cooled(state, "impossible_travel", now_ms, t):
            found.append(travel)
    novel = []
    if country and country not in countries:
        novel.append(f"country {country}")
    if asn is not None and str(asn) not in networks:
        novel.append(f"AS{asn}")
    if novel and samples >= t.location_min_samples and _cooled(state, "new_location", now_ms, t):
        found.append(
            Anomaly(
                "new_location",
                SCORES["new_location"],
                {
                    "new": novel,
                    "known_countries": sorted(countries)[:20],
                    "known_asns": len(networks),
                    "samples": samples,
                },
            )
        )
    if country:
        countries[country] = countries.get(country, 0) + 1
    if asn is not None:
        networks[str(asn)] = networks.get(str(asn), 0) + 1
    _trim(countries, 50)
    _trim(networks, 100)
    state["samples"] = samples + 1
    if here is not None:
        state["last"] = {
            "lat": here.lat,
            "lon": here.lon,
            "precise": here.precise,
            "ms": now_ms,
            "country": country,
        }
    return found


def _travel(
    last: dict[str, Any], here: geo.Place, now_ms: int, country: str | None, t: Thresholds
) -> Anomaly | None:
    before = geo.Place(float(last["lat"]), float(last["lon"]), bool(last["precise"]))
    km, kmh = geo.speed_kmh(before, int(last["ms"]), here, now_ms)
    # Country centres are coarse: demand twice the distance when either end is one.
    needed_km = t.travel_min_km * (1 if before.precise and here.precise else 2)
    if km < needed_km or kmh < t.travel_kmh:
        return None
    return Anomaly(
        "impossible_travel",
        SCORES["impossible_travel"],
        {
            "from": last.get("country"),
            "to": country,
            "km": round(km),
            "hours": round((now_ms - int(last["ms"])) / 3_600_000, 3),
            "kmh": "inf" if kmh == float("inf") else round(kmh),
        },
    )


def _trim(counts: dict[str, int], keep: int) -> None:
    if len(counts) > keep:
        for key, _ in sorted(counts.items(), key=lambda kv: kv[1])[: len(counts) - keep]:
            del counts[key]
