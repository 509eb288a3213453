"""What a text could contain, found cheaply before the real scan.

Most log lines hold no personal data. One pass of a literal trie over the lower-cased text
(plus a digit test) names the classes worth scanning for; the scan then compiles only their
alternatives, so a line without `@` never pays for the email pattern. Hints are a superset:
a hint that leads nowhere costs a little time, a missing hint would cost recall.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from obs_schema.scrubbing.patterns import KEY_STEMS, NUMERIC

_DIGIT = re.compile(r"[0-9]")
_IBAN = re.compile(r"[A-Z][A-Z][0-9][0-9]")

# Literal -> the classes (inclusion groups) it hints at; matched on lower-cased text.
_TOKEN_PREFIXES = (
    "bearer", "basic", "akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa", "aiza",
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "sk_", "pk_", "rk_",
    "whsec_", "ya29.", "sk-", "sg.", "npm_", "pypi-", "hf_", "shp", "dop_v1_", "obs_",
)  # fmt: skip
_PHONE_WORDS = ("phone", "tel", "mobile", "cell", "fax", "call", "sms", "whatsapp")


def _literals() -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for words, kind in (
        (KEY_STEMS, "kv"),
        (_TOKEN_PREFIXES, "token"),
        (_PHONE_WORDS, "phone_word"),
        (("eyj",), "jwt"),
        (("private key",), "private_key"),
        (("://",), "credentials"),
        (("@", "%40"), "email"),
    ):
        for word in words:
            kinds.setdefault(word, set()).add(kind)
    # The trie matches the longest literal at a position: it must carry its prefixes' kinds.
    for word, found in kinds.items():
        for other, more in kinds.items():
            if other != word and word.startswith(other):
                found |= more
    return kinds


def trie_pattern(words: Iterable[str], first: str = "") -> str:
    """An alternation of `words` as a trie: one branch per first character, then nested.

    Branches come in the order of `first` (the rest alphabetically): each starts with its own
    character, so the order changes no match, only how many branches `re` tests before the
    right one - common letters first make that fewer."""
    tree: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _emit(tree, {char: rank for rank, char in enumerate(first)})


def _emit(node: dict, rank: dict[str, int]) -> str:  # type: ignore[type-arg]
    order = sorted((char for char in node if char), key=lambda c: (rank.get(c, len(rank)), c))
    branches = [re.escape(char) + _emit(node[char], rank) for char in order]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


# Characters by frequency in log text (English letters, then punctuation).
_COMMON_FIRST = "etaoinsrhldcumfpgwybvkxjqz_:@%"
_KINDS = {word: frozenset(kinds) for word, kinds in _literals().items()}
_HINTS = re.compile(trie_pattern(_KINDS, _COMMON_FIRST))

# The groups as bits, so a text's hints are a few integer ORs, and its answer (one of a few
# dozen sets in practice) is computed once per (bits, enabled) and then looked up: the same
# frozenset object comes back, whose hash is cached for the scanner's pattern lookup.
_GROUPS = sorted({kind for kinds in _KINDS.values() for kind in kinds} | NUMERIC | {"iban", "ipv6"})
_BIT = {kind: 1 << index for index, kind in enumerate(_GROUPS)}
_WORD_BITS = {word: sum(_BIT[kind] for kind in kinds) for word, kinds in _KINDS.items()}
_NUMERIC_BITS = sum(_BIT[kind] for kind in NUMERIC)
_IBAN_BIT, _IPV6_BIT, _PHONE_WORD_BIT = _BIT["iban"], _BIT["ipv6"], _BIT["phone_word"]
_CACHE_LIMIT = 4096
_answers: dict[tuple[int, frozenset[str]], frozenset[str]] = {}


def classes_in(text: str, lower: str, enabled: frozenset[str]) -> frozenset[str]:
    """The inclusion groups `text` could contain (`lower` is `text` lower-cased, same length)."""
    bits = hint_bits(text, lower)
    answer = _answers.get((bits, enabled))
    if answer is None:
        if len(_answers) >= _CACHE_LIMIT:
            _answers.clear()  # bounded: one entry per configuration and combination
        answer = _answers[(bits, enabled)] = groups_of(bits) & enabled
    return answer


def hint_bits(text: str, lower: str) -> int:
    """The groups `text` could contain, as bits (see `groups_of`)."""
    bits = 0
    for word in _HINTS.findall(lower):
        bits |= _WORD_BITS[word]
    if _DIGIT.search(text):
        bits |= _NUMERIC_BITS
        # (an IBAN starts with two capitals: a text its lower-casing leaves as it is has none)
        if lower != text and _IBAN.search(text):
            bits |= _IBAN_BIT
    else:
        bits &= ~_PHONE_WORD_BIT  # a phone number needs digits
    if "::" in text or text.count(":") >= 7:
        bits |= _IPV6_BIT
    return bits


def groups_of(bits: int) -> frozenset[str]:
    return frozenset(kind for kind, bit in _BIT.items() if bits & bit)
