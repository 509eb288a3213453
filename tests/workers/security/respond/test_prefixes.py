"""Blocklists parsed line by line and matched by prefix, most specific first."""

from __future__ import annotations

from security.respond.prefixes import PrefixSet, compile_lists, parse_list


def test_lists_take_plain_addresses_cidrs_and_comments() -> None:
    parsed = parse_list(
        "# FireHOL\n1.2.3.4\n5.6.0.0/16 ; SBL\n\n2001:db8::/32\nbogus\n1.2.3.0/33\n"
    )
    assert parsed.networks == ["1.2.3.4/32", "5.6.0.0/16", "2001:db8::/32"]
    assert parsed.rejected == 2


def test_matching_is_by_prefix_and_survives_json() -> None:
    compiled, summary = compile_lists([("a", "10.0.0.0/8\n10.1.0.0/16"), ("b", "::ffff:0:0/96")])
    assert summary == [
        {"name": "a", "entries": 2, "rejected_lines": 0},
        {"name": "b", "entries": 1, "rejected_lines": 0},
    ]
    again = PrefixSet.from_json(compiled.to_json())
    assert again.match("10.1.2.3") == ("10.1.0.0/16", "a")
    assert again.match("10.200.0.1") == ("10.0.0.0/8", "a")
    assert again.match("::ffff:10.1.0.1") == ("10.1.0.0/16", "a")  # mapped IPv4 is IPv4
    assert again.match("11.0.0.1") is None and again.match("garbage") is None
    assert len(again) == 3
