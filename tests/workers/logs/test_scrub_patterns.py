"""The scrubber's patterns avoid what Debian 12's CPython 3.11.2 gets wrong.

Its `re` lets a possessive repeat of a group (`(?:...)*+`, `(?:...){1,9}+`) keep the
characters of an iteration that failed, lookaheads included: the key pass then took
`x; ` as the value of `token: x; y` and scrubbed `Session: started; Token: expired`. Later
3.11 releases (the tests' interpreter) are right, so the behaviour cannot fail here; the
shape of the patterns can. Possessive repeats of single characters or classes are fine.
"""

from __future__ import annotations

import re

import pytest

from obs_schema.scrubbing import patterns
from obs_schema.scrubbing.config import CLASSES

# A closing parenthesis, a quantifier, then `+`: a possessive repeat of a group.
_POSSESSIVE_GROUP = re.compile(r"(?<!\\)\)(?:[*+?]|\{\d*,?\d*\})\+")


def _sources() -> list[tuple[str, str]]:
    found = [("KEY_VALUE", patterns.KEY_VALUE.pattern)]
    found += [("combined", patterns.combined({*CLASSES, "phone_word"}).pattern)]
    return found


@pytest.mark.parametrize(("name", "source"), _sources())
def test_no_possessive_group_repeats(name: str, source: str) -> None:
    assert _POSSESSIVE_GROUP.findall(source) == [], name


def test_the_check_finds_one() -> None:
    assert _POSSESSIVE_GROUP.findall(r"a(?:;\s?[^=]{1,64}+=[^;]{0,9}+)*+") == [")*+"]
    assert _POSSESSIVE_GROUP.findall(r"(?:x|y){1,4096}+z") == ["){1,4096}+"]
    assert _POSSESSIVE_GROUP.findall(r"[a-z]{0,48}+\)+") == []
