"""Where a request came from, and whether a user could have travelled there in time.

Callers on Cloudflare pass `request.cf.latitude/longitude`; when they do not, the centre of
the country stands in (coarse, so the speed test then also needs a large distance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0
# Approximate centres (lat, lon) of the countries Pitchey sees most, ISO 3166-1 alpha-2.
CENTROIDS: dict[str, tuple[float, float]] = {
    "AE": (23.4, 53.8),
    "AR": (-38.4, -63.6),
    "AT": (47.5, 14.6),
    "AU": (-25.3, 133.8),
    "BD": (23.7, 90.4),
    "BE": (50.5, 4.5),
    "BG": (42.7, 25.5),
    "BR": (-14.2, -51.9),
    "CA": (56.1, -106.3),
    "CH": (46.8, 8.2),
    "CL": (-35.7, -71.5),
    "CN": (35.9, 104.2),
    "CO": (4.6, -74.3),
    "CZ": (49.8, 15.5),
    "DE": (51.2, 10.5),
    "DK": (56.3, 9.5),
    "EG": (26.8, 30.8),
    "ES": (40.5, -3.7),
    "FI": (61.9, 25.7),
    "FR": (46.2, 2.2),
    "GB": (55.4, -3.4),
    "GR": (39.1, 21.8),
    "HK": (22.4, 114.1),
    "HU": (47.2, 19.5),
    "ID": (-0.8, 113.9),
    "IE": (53.4, -8.2),
    "IL": (31.0, 34.9),
    "IN": (20.6, 79.0),
    "IR": (32.4, 53.7),
    "IT": (41.9, 12.6),
    "JP": (36.2, 138.3),
    "KE": (-0.0, 37.9),
    "KR": (35.9, 127.8),
    "MX": (23.6, -102.6),
    "MY": (4.2, 102.0),
    "NG": (9.1, 8.7),
    "NL": (52.1, 5.3),
    "NO": (60.5, 8.5),
    "NZ": (-40.9, 174.9),
    "PE": (-9.2, -75.0),
    "PH": (12.9, 121.8),
    "PK": (30.4, 69.3),
    "PL": (51.9, 19.1),
    "PT": (39.4, -8.2),
    "RO": (45.9, 25.0),
    "RU": (61.5, 105.3),
    "SA": (23.9, 45.1),
    "SE": (60.1, 18.6),
    "SG": (1.4, 103.8),
    "TH": (15.9, 101.0),
    "TR": (39.0, 35.2),
    "TW": (23.7, 121.0),
    "UA": (48.4, 31.2),
    "US": (37.1, -95.7),
    "VN": (14.1, 108.3),
    "ZA": (-30.6, 22.9),
}


@dataclass(frozen=True, slots=True)
class Place:
    lat: float
    lon: float
    precise: bool  # from the edge's coordinates, not a country centre


def place(country: str | None, lat: float | None, lon: float | None) -> Place | None:
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        return Place(lat, lon, True)
    centre = CENTROIDS.get((country or "").upper())
    return Place(centre[0], centre[1], False) if centre else None


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def speed_kmh(a: Place, a_ms: int, b: Place, b_ms: int) -> tuple[float, float]:
    """(distance km, speed km/h) between two sightings; an instant jump is infinitely fast."""
    km = distance_km(a, b)
    hours = abs(b_ms - a_ms) / 3_600_000
    return km, (math.inf if hours == 0 and km > 0 else km / hours if hours else 0.0)
