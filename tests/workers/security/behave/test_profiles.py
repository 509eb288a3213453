"""Behavioural detectors on plain state dicts, step by step in milliseconds."""

from __future__ import annotations

from typing import Any

from security.behave import profiles
from security.behave.geo import distance_km, place

T = profiles.Thresholds()
MIN = 60_000


def test_credential_stuffing_needs_many_accounts_few_successes_within_the_window() -> None:
    state: dict[str, Any] = {}
    found = []
    for n in range(9):
        found += profiles.observe_outcome(state, n * MIN, 401, f"acct{n}", False, T)
    assert found == []
    # The first failure leaves the 10-minute window before the tenth account arrives.
    late = profiles.observe_outcome(state, 11 * MIN, 401, "acct9", False, T)
    assert late == []
    fresh: dict[str, Any] = {}
    for n in range(10):
        found = profiles.observe_outcome(fresh, n, 401, f"a{n}", False, T)
    assert [a.type for a in found] == ["credential_stuffing"]
    assert profiles.observe_outcome(fresh, 11, 401, "a11", False, T) == []  # cooldown


def test_a_user_who_mostly_succeeds_is_not_stuffing() -> None:
    state: dict[str, Any] = {}
    found = []
    for n in range(12):
        found += profiles.observe_outcome(state, n, 401, f"typo{n}", False, T)
        found += profiles.observe_outcome(state, n, 200, "real", True, T)
        found += profiles.observe_outcome(state, n, 200, "real", True, T)
    assert found == []


def test_account_failures_from_many_sources() -> None:
    state: dict[str, Any] = {}
    results = [profiles.observe_account_failure(state, n, f"10.0.0.{n}", T) for n in range(10)]
    assert [len(r) for r in results] == [0] * 9 + [1]
    assert results[-1][0].detail["sources"] == 10


def test_a_burst_of_client_errors_is_scanning_for_whichever_subject_it_is_about() -> None:
    for subject in ("ip", "user"):
        state: dict[str, Any] = {}
        found = []
        for n in range(20):
            found += profiles.observe_outcome(state, n, 404, None, None, T, subject)
        [burst] = found
        assert burst.type == "scanning" and burst.detail["subject"] == subject
        assert burst.detail["client_errors_per_minute"] == 20


def test_enumeration_wants_consecutive_ids_on_one_route() -> None:
    walk: dict[str, Any] = {}
    found = []
    for n in range(20):
        found += profiles.observe_request(walk, n * 1000, f"/api/users/{500 + n}/profile", "", T)
    assert [a.type for a in found] == ["enumeration"]
    assert found[0].detail["route"] == "/api/users/{n}/profile"


def test_location_news_needs_a_history_and_travel_needs_distance_and_speed() -> None:
    state: dict[str, Any] = {}
    for n in range(5):
        assert profiles.observe_location(state, n * MIN, "FR", 3215, 48.85, 2.35, T) == []
    # Paris to Brussels (260 km) in a minute is fast, but too close to call.
    near = profiles.observe_location(state, 6 * MIN, "BE", 3215, 50.85, 4.35, T)
    assert [a.type for a in near] == ["new_location"]
    far = profiles.observe_location(state, 7 * MIN, "US", 7018, 40.71, -74.0, T)
    assert [a.type for a in far] == ["impossible_travel"]  # new_location is cooling down
    assert far[0].detail["from"] == "BE" and far[0].detail["km"] == 5888


def test_country_centres_stand_in_for_coordinates() -> None:
    paris, madrid = place("FR", None, None), place("ES", None, None)
    assert paris is not None and madrid is not None and not paris.precise
    assert round(distance_km(paris, madrid)) == 793
    assert place("ZZ", None, None) is None
