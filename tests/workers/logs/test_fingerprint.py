"""Messages that differ only in their variable parts share one fingerprint."""

from __future__ import annotations

import importlib.util
import random
import re
from types import ModuleType

import pytest

from logs.fingerprint import _VARIABLE, MAX_TEMPLATE_CHARS, fingerprint, fingerprints, template
from obs_schema.scrubbing import Scrubber, ScrubConfig
from tests.workers.logs.helpers import ROOT


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "payment 8812 declined for [email:3f9a1c2e] after 3.2s",
            "payment <*> declined for <*> after <*>s",
        ),
        ("GET /api/pitches/12345 200 in 23ms", "GET /api/pitches/<*> <*> in <*>ms"),
        ("trace 5b8efff798038103d269b633813fc60c failed", "trace <*> failed"),
        ("id 550e8400-e29b-41d4-a716-446655440000 gone", "id <*> gone"),
        ('user "bob smith" at 10:23:45 code=0xDEAD', "user <*> at <*> code=<*>"),
        ("  spaced   out  ", "spaced out"),
        ("tabs\tand\nlines\u2003and\u00a0wide  spaces", "tabs and lines and wide spaces"),
        # A hex id needs 8 digits and a digit before a letter; shorter ones lose only their
        # numbers, and hex-looking words stay.
        ("deck cache faded decade", "deck cache faded decade"),
        ("id 1a2b3c4d and 1a2b3c4 or abcdef12", "id <*> and <*>a<*>b<*>c<*> or abcdef<*>"),
    ],
)
def test_templates(message: str, expected: str) -> None:
    assert template(message) == expected


def test_same_template_same_fingerprint_and_only_then() -> None:
    a = fingerprint("payment 8812 declined for [email:3f9a1c2e]")
    assert a == fingerprint("payment 17 declined for [email:0b1c2d3e]")
    assert a != fingerprint("payment 17 accepted for [email:0b1c2d3e]")
    assert len(a) == 16 and int(a, 16) >= 0


# The plain alternation the template was first written as: the compiled pattern starts with
# the parts' first characters (for speed) and must replace exactly the same spans.
_PLAIN = re.compile(
    r"\[[a-z][a-z0-9_]{0,31}(?::[0-9a-f]{8})?\]"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|0[xX][0-9a-fA-F]+"
    r"|\b(?=[0-9a-fA-F]{8})[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b(?<=\w{8})"
    r"|[-+]?[0-9]+(?:[.,:][0-9]+)*"
    r'|"[^"\n]{0,256}"'
)


def _tricky_texts(count: int) -> list[str]:
    rng = random.Random(7)
    alphabet = '0123456789abcdefABCDEFxXgz-+.,:"[]_ \n\u00e9'
    texts = []
    for _ in range(count):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.3:
            marker = "".join(rng.choice("0123456789abcdef") for _ in range(8))
            text += f"[{rng.choice(['email', 'ipv4', 'x_1'])}:{marker}]{text[:8]}"
        if rng.random() < 0.3:
            hexes = "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(6, 12)))
            text += f" {hexes}{rng.choice([' ', 'g', '-', ''])}"
        texts.append(text)
    return texts


def test_the_compiled_pattern_replaces_what_the_plain_alternation_does() -> None:
    for text in _tricky_texts(20000):
        assert _VARIABLE.sub("<*>", text) == _PLAIN.sub("<*>", text), text


def _bench_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "bench/logs/corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_batch_gets_each_message_s_own_fingerprint_on_the_benchmark_corpus() -> None:
    corpus, rng = _bench_corpus(), random.Random(11)
    scrubber = Scrubber(ScrubConfig(key=b"k"))
    messages = [scrubber.scrub_text(corpus.message(rng)) for _ in range(3000)]
    assert fingerprints(messages) == [fingerprint(message) for message in messages]


@pytest.mark.parametrize(
    "messages",
    [
        # Parts at the edges of the joined lines: a hex id, a UUID, a marker, a quote, a number.
        ["1a2b3c4d5e", "deadbeef01 x", "x 0badc0de", "550e8400-e29b-41d4-a716-446655440000"],
        ["[email:3f9a1c2e]", "[ipv4:00000000] x", 'said "hi', 'there" and', '"', '""'],
        ["abc", "12345678", "-5", "+7 x", "x -", "0x", "0xff", "x 1,2", ":3"],
        # Ends that would join a neighbour's part if the newline did not bound them.
        ["abcdef12", "34567890", "ab", "cdef1234", "x 1a2b3c4", "d5e6f7a8"],
        ["", "", " ", "\t", "a\u2028b", "\r", "x\x0b"],
        [],
        ["   spaced   ", " \u00a0 tabs\tand  wide\u2003 "],
    ],
)
def test_a_batch_gets_each_message_s_own_fingerprint(messages: list[str]) -> None:
    assert fingerprints(messages) == [fingerprint(message) for message in messages]


def test_tricky_batches_get_each_message_s_own_fingerprint() -> None:
    texts = [text.replace("\n", " ") for text in _tricky_texts(6000)]
    for start in range(0, len(texts), 100):
        batch = texts[start : start + 100]
        assert fingerprints(batch) == [fingerprint(text) for text in batch]


def test_newlines_and_long_messages_are_fingerprinted_one_by_one() -> None:
    long = "id 1a2b3c4d5e " + "x" * MAX_TEMPLATE_CHARS + " 42"
    for batch in (["a 1", "b\n2", '"c', 'd"'], ["a 1", long, "0x1f"]):
        assert fingerprints(batch) == [fingerprint(text) for text in batch]
    assert fingerprint(long) == fingerprint(long[:MAX_TEMPLATE_CHARS] + " 43")
