"""The search tree as a Python predicate over text, for what FTS5 does not hold (archives).

Words are cut the way FTS5's `unicode61 remove_diacritics 2` tokenizer cuts them - runs of
letters and digits, case-folded, accents removed - so a query finds the same records in the
archive as in the hot store.
"""

from __future__ import annotations

import re
import unicodedata

from logs.search.syntax import And, Node, Not, Term

_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(folded)


class Matcher:
    def __init__(self, node: Node) -> None:
        self.node = node

    def __call__(self, text: str) -> bool:
        words = tokens(text)
        return self._match(self.node, words, set(words))

    def _match(self, node: Node, words: list[str], present: set[str]) -> bool:
        if isinstance(node, Term):
            return _term(node, words, present)
        if isinstance(node, Not):
            return not self._match(node.child, words, present)
        if isinstance(node, And):
            return all(self._match(child, words, present) for child in node.children)
        return any(self._match(child, words, present) for child in node.children)


def _term(term: Term, words: list[str], present: set[str]) -> bool:
    wanted = tokens(term.text)
    if len(wanted) == 1 and not term.prefix:
        return wanted[0] in present
    size = len(wanted)
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        if window[:-1] == wanted[:-1] and (
            window[-1].startswith(wanted[-1]) if term.prefix else window[-1] == wanted[-1]
        ):
            return True
    return False
