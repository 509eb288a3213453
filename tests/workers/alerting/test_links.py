"""Signed one-click links: one action on one alert until they expire, unforgeable."""

from __future__ import annotations

import pytest

from alerting.links import Link, LinkError, sign, verify

KEY = b"k" * 32
LINK = Link("ack", "c508c62a1b2c3d4e", "link", 2_000)


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = sign(KEY, LINK)
    assert verify(KEY, token, 1_999) == LINK
    with pytest.raises(LinkError, match="expired"):
        verify(KEY, token, 2_000)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: sign(b"x" * 32, LINK),
        lambda t: sign(KEY, Link("resolve", LINK.fingerprint, "link", 2_000)).split(".")[0]
        + "."
        + t.split(".")[1],
        lambda t: "not-a-link",
    ],
)
def test_forged_or_altered_links_are_refused(tamper: object) -> None:
    token = tamper(sign(KEY, LINK))  # type: ignore[operator]
    with pytest.raises(LinkError):
        verify(KEY, token, 0)
