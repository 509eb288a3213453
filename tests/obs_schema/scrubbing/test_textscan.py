"""The pattern pass's shortcuts answer as the searches they stand for."""

from __future__ import annotations

import random

import pytest

from obs_schema.scrubbing import IpMode, Scrubber, ScrubConfig
from obs_schema.scrubbing.textscan import _VERSION_CONTEXT, _after_version_word


def test_the_version_word_shortcut_answers_as_the_search() -> None:
    rng = random.Random(5)
    words = ["v", "V", "version", "VERSION", "ver", "ver.", "release", "RELEASE", "build"]
    words += ["Build", "firmware", "FirmWare", "rev", "REV", "rele\u017fe", "bu\u0131ld"]
    words += ["f\u0130rmware", "vers\u0131on", "from", "started", "at", "host", "re", "bui"]
    words += ["vv", "é", "\u017f", "\u0131"]
    tails = ["", " ", ":", "=", " :", ": ", " = ", "  ", "   ", "\t", "\u00a0", "x", "1", "-"]
    for _ in range(20000):
        before = "".join(rng.choice([*words, " "]) for _ in range(rng.randint(0, 3)))
        before = (before + rng.choice(tails))[-12:]
        assert _after_version_word(before) is (_VERSION_CONTEXT.search(before) is not None), before


@pytest.mark.parametrize("mode", ["hash", "truncate", "redact"])
def test_a_remembered_address_is_replaced_as_the_first_time_and_versions_stay(mode: IpMode) -> None:
    scrubber = Scrubber(ScrubConfig(key=b"k", ip_mode=mode))
    texts = [
        f"{lead} {address}{tail}"
        for address in ("10.1.2.3", "10.1.2.300", "127.0.0.1", "010.001.002.003")
        for lead in ("from", "version", "v", "build:", "to")
        for tail in ("", ":8080", " ok")
    ]
    for text in texts + [text.upper() for text in texts]:  # the second time from memory
        assert scrubber.scrub_text(text) == Scrubber(
            ScrubConfig(key=b"k", ip_mode=mode)
        ).scrub_text(text)
