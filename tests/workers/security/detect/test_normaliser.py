"""Every encoding layer comes off before rules look at a value."""

from __future__ import annotations

import pytest

from security.detect.normaliser import fully_decode, strip_sql_comments, views


@pytest.mark.parametrize(
    ("raw", "text", "layers"),
    [
        ("%3Cscript%3E", "<script>", 1),
        ("%253Cscript%253E", "<script>", 2),
        ("%25253Cscript%25253E", "<script>", 3),
        ("%u003cscript%u003e", "<script>", 1),
        ("&lt;script&gt;", "<script>", 1),
        ("&#x3c;&#60;script", "<<script", 1),
        ("\\x3cscript\\u003e", "<script>", 1),
        ("\\3c script", "<script", 1),
        ("%c0%ae%c0%ae%c0%af", "../", 1),
        ("\uff1cSCRIPT\uff1e", "<script>", 0),  # NFKC folds full-width forms
        ("..\u2215..\u2215", "../../", 0),  # division slash read as '/'
        ("a\u200bb", "ab", 0),  # zero-width space dropped
        ("C:\\dev\\badd", "c:\\dev\\badd", 0),  # a path is not a CSS escape
        ("1+2", "1+2", 0),
    ],
)
def test_values_are_decoded_to_a_fixed_point(raw: str, text: str, layers: int) -> None:
    seen = views(raw)
    assert (seen.text, seen.layers) == (text, layers)


def test_plus_is_a_space_only_in_form_encoding() -> None:
    assert fully_decode("a+b", plus_is_space=True) == ("a b", 1)
    assert fully_decode("a+b") == ("a+b", 0)


def test_whitespace_collapses_but_line_breaks_survive_as_separators() -> None:
    assert views("a \t\u00a0 b\r\n\r\n c").text == "a b\nc"
    assert views("%0aid%0a").text == "\nid\n"


@pytest.mark.parametrize(
    ("sql", "stripped"),
    [
        ("un/**/ion se/*x*/lect", "un ion se lect"),
        ("/*!50000union*/ /*!select*/ 1", "union select 1"),
        ("1/*unterminated", "1"),
    ],
)
def test_sql_comments_become_spaces_but_mysql_executable_ones_keep_their_content(
    sql: str, stripped: str
) -> None:
    assert strip_sql_comments(sql) == stripped


def test_compact_view_joins_split_words() -> None:
    assert views("java\tscript :").compact == "javascript:"
