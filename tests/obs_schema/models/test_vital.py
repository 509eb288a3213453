"""WebVital: web-vitals v5/v6 metric objects from the browser beacon; FID is refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema.models import NavigationType, VitalName, VitalRating, WebVital, rate
from obs_schema.models.vital import REMOVED_METRICS

BASE: dict[str, Any] = {"name": "LCP", "value": 2150.4, "id": "v6-1724150400000-1234567890123"}
G, NI, P = VitalRating.GOOD, VitalRating.NEEDS_IMPROVEMENT, VitalRating.POOR


def test_a_v6_metric_object_is_read_with_its_wire_names() -> None:
    vital = WebVital.model_validate(
        {
            **BASE,
            "rating": "good",
            "delta": 150.0,
            "navigationType": "back-forward-cache",
            "navigationId": 3,
            "navigationURL": "https://pitchey.example.com/pitches/42",
            "attribution": {"target": "#hero > img", "timeToFirstByte": 310.2},
            "entries": [{"entryType": "largest-contentful-paint"}],  # ignored
            "navigationStartTime": 12.5,  # ignored
        }
    )
    assert vital.model_dump(by_alias=True, mode="json") == {
        "name": "LCP",
        "value": 2150.4,
        "rating": "good",
        "delta": 150.0,
        "id": "v6-1724150400000-1234567890123",
        "navigationType": "back-forward-cache",
        "navigationId": 3,
        "url": "https://pitchey.example.com/pitches/42",
        "attribution": {"target": "#hero > img", "timeToFirstByte": 310.2},
    }


def test_a_v5_metric_gets_defaults() -> None:
    vital = WebVital.model_validate({"name": "cls", "value": 0.3, "id": "v5-1-2"})
    assert (vital.name, vital.rating, vital.delta, vital.navigation_type, vital.url) == (
        VitalName.CLS,
        P,
        0.3,
        NavigationType.NAVIGATE,
        None,
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LCP", 2500, G),
        ("LCP", 2500.1, NI),
        ("LCP", 4000, NI),
        ("LCP", 4000.1, P),
        ("INP", 200, G),
        ("INP", 201, NI),
        ("INP", 501, P),
        ("CLS", 0, G),
        ("CLS", 0.1, G),
        ("CLS", 0.25, NI),
        ("CLS", 0.26, P),
        ("FCP", 1800, G),
        ("FCP", 3000, NI),
        ("FCP", 3001, P),
        ("TTFB", 800, G),
        ("TTFB", 1800, NI),
        ("TTFB", 1801, P),
    ],
)
def test_ratings_follow_web_vitals_thresholds(
    name: str, value: float, expected: VitalRating
) -> None:
    assert rate(VitalName(name), value) is expected
    assert WebVital.model_validate({**BASE, "name": name, "value": value}).rating is expected


def test_a_sent_rating_is_kept_as_sent() -> None:
    assert WebVital.model_validate({**BASE, "value": 9000, "rating": "good"}).rating is G


@pytest.mark.parametrize(
    "navigation_type",
    [
        "navigate",
        "reload",
        "back-forward",
        "back-forward-cache",
        "prerender",
        "restore",
        "soft-navigation",
    ],
)
def test_every_navigation_type_is_accepted(navigation_type: str) -> None:
    vital = WebVital.model_validate({**BASE, "navigationType": navigation_type})
    assert vital.navigation_type == navigation_type


@pytest.mark.parametrize("name", ["FID", "fid", " Fid "])
def test_fid_is_refused_with_a_message_pointing_to_inp(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebVital.model_validate({**BASE, "name": name})
    message = str(caught.value)
    assert "FID" in message and "removed" in message and "INP" in message
    assert "FID" in REMOVED_METRICS


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("name", {"name": "TBT"}),
    ("name", {"name": 1}),
    ("value", {"value": -1}),
    ("value", {"value": float("nan")}),
    ("value", {"value": "fast"}),
    ("rating", {"rating": "bad"}),
    ("delta", {"delta": float("inf")}),
    ("id", {"id": ""}),
    ("id", {"id": "has space"}),
    ("id", {"id": "v" * 129}),
    ("navigationType", {"navigationType": "typed"}),
    ("navigationId", {"navigationId": -1}),
    ("url", {"url": "javascript:alert(1)"}),
    ("navigationURL", {"navigationURL": "/relative"}),
    ("attribution", {"attribution": "not an object"}),
]


@pytest.mark.parametrize(("field", "change"), INVALID)
def test_invalid_reports_name_the_field(field: str, change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        WebVital.model_validate({**BASE, **change})
    assert field in {str(error["loc"][0]) for error in caught.value.errors()}


@pytest.mark.parametrize(("name", "value"), [("LCP", 3_600_001), ("TTFB", 1e9), ("CLS", 101)])
def test_implausible_values_are_refused(name: str, value: float) -> None:
    with pytest.raises(ValidationError, match="is above"):
        WebVital.model_validate({**BASE, "name": name, "value": value})
