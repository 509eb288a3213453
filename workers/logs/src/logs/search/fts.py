"""The search tree as an FTS5 MATCH expression, every term quoted as an FTS5 string.

Quoting makes user text inert: `"a ""b"" c"` is a phrase whatever it contains, so no FTS5
operator, column filter or syntax error can come from a search box. The result is bound as a
parameter of the SQL statement (`logs.store.searchsql`), never spliced into it.
"""

from __future__ import annotations

from logs.search.syntax import And, Node, Not, Or, Term


def to_fts(node: Node) -> str:
    if isinstance(node, Term):
        text = node.text.replace('"', '""')
        return f'"{text}"' + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return " OR ".join(_group(child) for child in node.children)
    if isinstance(node, And):
        positives = [c for c in node.children if not isinstance(c, Not)]
        negatives = [c.child for c in node.children if isinstance(c, Not)]
        expression = " AND ".join(_group(child) for child in positives)
        if negatives and len(positives) > 1:
            expression = f"({expression})"
        for negative in negatives:
            expression += f" NOT {_group(negative)}"
        return expression
    raise ValueError("NOT must be inside AND with a positive term")  # parse() prevents it


def _group(node: Node) -> str:
    inner = to_fts(node)
    return inner if isinstance(node, Term) else f"({inner})"
