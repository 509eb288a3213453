"""The pattern pass's shortcuts answer as the searches they stand for."""

from __future__ import annotations

import random

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
