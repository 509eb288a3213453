"""Parse the search language into a small tree; every malformed query gets a precise message.

    payment declined            both words (AND is implied)
    "card declined"             the phrase
    timeout OR "connection reset"
    error NOT retry             NOT needs something positive beside it (FTS5's NOT is binary)
    (db OR cache) AND timeo*    parentheses; prefix* matches words starting with timeo

AND, OR and NOT are operators in capitals only (`not` is a word). NOT binds tighter than AND,
AND tighter than OR.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

MAX_QUERY_CHARS = 1024
MAX_TERMS = 64
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"]|"")*)"(\*)?|([^\s()"]+))')
_WORDLIKE = re.compile(r"\w")


class QuerySyntaxError(ValueError):
    """The query cannot be understood; the message says where and why."""


@dataclass(frozen=True)
class Term:
    text: str  # one word, or several words as a phrase when quoted
    prefix: bool = False
    phrase: bool = False


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


def parse(query: str) -> Node:
    if len(query) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    tokens = _tokens(query)
    if not tokens:
        raise QuerySyntaxError("the query is empty")
    if sum(1 for kind, _ in tokens if kind == "term") > MAX_TERMS:
        raise QuerySyntaxError(f"the query has more than {MAX_TERMS} terms")
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.position < len(tokens):
        raise QuerySyntaxError("unbalanced ')' in the query")
    _check_negations(tree, positive_sibling=False)
    return tree


def _tokens(query: str) -> list[tuple[str, object]]:
    tokens: list[tuple[str, object]] = []
    position = 0
    while position < len(query):
        if query[position:].strip() == "":
            break
        match = _TOKEN.match(query, position)
        if match is None:
            where = query.index('"', position) + 1
            raise QuerySyntaxError(f"unbalanced quote (the one at character {where})")
        position = match.end()
        opening, closing, quoted, star, word = match.groups()
        if opening:
            tokens.append(("(", None))
        elif closing:
            tokens.append((")", None))
        elif quoted is not None:
            tokens.append(("term", _term(quoted.replace('""', '"'), bool(star), phrase=True)))
        elif word in ("AND", "OR", "NOT"):
            tokens.append((word, None))
        else:
            assert word is not None
            prefix = word.endswith("*")
            tokens.append(("term", _term(word.rstrip("*"), prefix, phrase=False)))
    return tokens


def _term(text: str, prefix: bool, phrase: bool) -> Term:
    if not _WORDLIKE.search(text):
        shown = f'"{text}"' if phrase else text or "*"
        raise QuerySyntaxError(f"{shown[:40]} has no letters or digits to search for")
    return Term(text, prefix, phrase)


class _Parser:
    def __init__(self, tokens: list[tuple[str, object]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, object]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> Node:
        children = [self.conjunction()]
        while self.peek() == "OR":
            self.take()
            children.append(self.conjunction())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def conjunction(self) -> Node:
        children = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise QuerySyntaxError("the query ends with an operator; a term must follow it")
        if kind == "NOT":
            self.take()
            return Not(self.unary())
        if kind == "(":
            self.take()
            inner = self.expression()
            if self.peek() != ")":
                raise QuerySyntaxError("unbalanced '(' in the query")
            self.take()
            return inner
        if kind in ("AND", "OR"):
            raise QuerySyntaxError(f"{kind} needs a term on both sides")
        if kind == ")":
            raise QuerySyntaxError("empty parentheses or unbalanced ')' in the query")
        value = self.take()[1]
        assert isinstance(value, Term)
        return value


def _check_negations(node: Node, positive_sibling: bool) -> None:
    if isinstance(node, Not):
        if not positive_sibling:
            raise QuerySyntaxError(
                "NOT must exclude from something: write `error NOT timeout`, not `NOT timeout`"
            )
        _check_negations(node.child, positive_sibling=False)
    elif isinstance(node, And):
        positives = any(not isinstance(child, Not) for child in node.children)
        for child in node.children:
            _check_negations(child, positive_sibling=positives)
    elif isinstance(node, Or):
        for child in node.children:
            _check_negations(child, positive_sibling=False)


def map_terms(node: Node, rewrite: Callable[[str], str]) -> Node:
    """The same tree with every term's text rewritten (the Worker scrubs search terms, so a
    search for an email finds its marker)."""
    if isinstance(node, Term):
        return replace(node, text=rewrite(node.text))
    if isinstance(node, Not):
        return Not(map_terms(node.child, rewrite))
    children = tuple(map_terms(child, rewrite) for child in node.children)
    return And(children) if isinstance(node, And) else Or(children)
