"""Markers: typed, keyed, stable, and recognisable."""

from __future__ import annotations

from obs_schema.scrubbing.marker import Marker, is_marker


def test_markers_are_typed_keyed_and_stable() -> None:
    first, again, other = Marker(b"k1"), Marker("k1"), Marker(b"k2")
    assert first("email", "a@b.c") == again("email", "a@b.c")
    assert first("email", "a@b.c") != other("email", "a@b.c")
    assert first("email", "a@b.c") != first("phone", "a@b.c")
    assert is_marker(first("email", "a@b.c")) and is_marker(Marker.plain("ipv4"))
    assert not is_marker("[email]x") and not is_marker("[Email:12345678]")
