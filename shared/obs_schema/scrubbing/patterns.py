"""Candidate patterns, one or more per class, compiled into one scan of the text.

Each alternative is (class, first character class, boundary, rest). The compiled pattern is
`[every first character](?:(?<=first1)(?<!boundary1.)rest1(?P<alt1>)|...)`: beginning with a
single character class lets `re` skip in C to the characters that can start anything, and the
empty group that ends each branch names the alternative that matched (`match.lastgroup`).
The boundary is a class of characters that must not precede the first one (so a candidate
never starts inside a word or a longer number). Patterns only propose: the scrubber's handler
for the class decides (checksums, context) and may decline.

Secrets under sensitive keys (`password=...`) are found by a separate pass (`KEY_VALUE`), which
is anchored on the key's stem and run on lower-cased text so it too starts with literals.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

_EXT = r"(?:\s?(?:[xX]|[eE][xX][tT]\.?|\#)\s?[0-9]{1,6})?"
_NUM_END = r"(?![\w-]|\.[0-9])"
_PHONE_B = r"[\w.+/#-]"


@dataclass(frozen=True)
class Alternative:
    cls: str
    first: str  # a character class (or one escaped character) the match starts with
    rest: str  # the pattern after that character
    boundary: str | None = None  # characters that may not come right before the match
    group: str = ""  # what the scan includes it by (see `textscan.classes_in`); default: cls

    @property
    def included_by(self) -> str:
        return self.group or self.cls


ALTERNATIVES: tuple[Alternative, ...] = (
    # -----BEGIN RSA PRIVATE KEY----- ... (the footer may have been cut by a line limit)
    Alternative(
        "private_key",
        "-",
        r"----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----[A-Za-z0-9+/=\s\\]{0,16384}+"
        r"(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----)?",
    ),
    # scheme://user:password@host -> the user-info part
    Alternative(
        "credentials",
        "[A-Za-z]",
        r"[A-Za-z0-9+.-]{1,15}://"
        r"(?P<credentials_info>[^\s/?#@:\"'<>]{1,128}:[^\s/?#@\"'<>]{1,256})@",
        r"[\w+.-]",
    ),
    Alternative("jwt", "e", r"yJ[\w-]{2,}+\.eyJ[\w-]{2,}+\.[\w-]*+", r"[\w-]"),
    # Authorization schemes in free text: "Bearer abc.def", "basic dXNlcjpwYXNz"
    Alternative(
        "token",
        "[Bb]",
        r"(?:earer|asic|EARER|ASIC)(?P<token_scheme>\s+)[A-Za-z0-9._~+/=-]{8,4096}+(?![\w-])",
        r"[\w-]",
    ),
    # Well-known key shapes (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI, Anthropic,
    # SendGrid, npm, PyPI, Hugging Face, Shopify, DigitalOcean, this stack's own tokens).
    *(
        Alternative("token", first, rest + r"(?![\w-])", r"[\w-]")
        for first, rest in (
            ("A", r"(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)[0-9A-Z]{16}"),
            ("A", r"Iza[0-9A-Za-z_-]{35}"),
            ("g", r"(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{22,255})"),
            ("g", r"lpat-[A-Za-z0-9_-]{20,}"),
            ("x", r"ox[abposr]-[A-Za-z0-9-]{10,}"),
            ("[spr]", r"k_(?:live|test)_[A-Za-z0-9]{16,}"),
            ("w", r"hsec_[A-Za-z0-9+/=]{24,}"),
            ("y", r"a29\.[0-9A-Za-z_-]{20,}"),
            ("s", r"k-(?:proj-|ant-(?:api|admin)[0-9]{2}-|svcacct-)?[A-Za-z0-9_-]{20,}"),
            ("S", r"G\.[\w-]{16,}\.[\w-]{16,}"),
            ("n", r"pm_[A-Za-z0-9]{36}"),
            ("p", r"ypi-[A-Za-z0-9_-]{50,}"),
            ("h", r"f_[A-Za-z0-9]{30,}"),
            ("s", r"hp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),
            ("d", r"op_v1_[a-f0-9]{64}"),
            ("o", r"bs_(?:ingest|read|admin)_[A-Za-z0-9_-]{20,}"),
        )
    ),
    Alternative(
        "email",
        r"[\w]",
        r"[\w.+-]{0,63}+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.){1,8}[A-Za-z]{2,24}(?![\w-])",
        r"[\w.%+-]",
    ),
    Alternative(
        "iban",
        "[A-Z]",
        r"[A-Z][0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
        r"[A-Za-z0-9]",
    ),
    Alternative(
        "card",
        "[0-9]",
        r"(?:[0-9]{11,18}|[0-9]{3}(?P<card_sep>[ -])[0-9]{4,6}(?P=card_sep)[0-9]{4,5}"
        r"(?:(?P=card_sep)[0-9]{1,4}){0,2})" + _NUM_END,
        r"[\w.+-]",
    ),
    Alternative(
        "ssn",
        "[0-9]",
        r"[0-9]{2}(?P<ssn_sep>[- ])[0-9]{2}(?P=ssn_sep)[0-9]{4}" + _NUM_END,
        r"[\w.+-]",
    ),
    # "phone: 07700900123", "call 5551234567": bare digits only with a word saying so
    Alternative(
        "phone",
        "[PpTtMmCcFfSsWw]",
        r"(?:(?<=[Pp])(?i:hone)|(?<=[Tt])(?i:el)|(?<=[Mm])(?i:obile)|(?<=[Cc])(?i:ell|all)"
        r"|(?<=[Ff])(?i:ax)|(?<=[Ss])(?i:ms)|(?<=[Ww])(?i:hatsapp))"
        r"(?:\s?(?i:no\.?|number|\#))?[\s:=#.]{1,3}+(?P<phone_number>\+?[0-9]{7,15})" + _NUM_END,
        r"[\w]",
        group="phone_word",
    ),
    # +44 20 7946 0958, +1-555-123-4567, 0049 30 1234567, +33 (0)1 23 45 67 89
    *(
        Alternative(
            "phone",
            first,
            lead + r"[1-9][0-9]{0,2}[\s.-]?(?:\(0\)[\s.-]?)?(?:\([0-9]{1,4}\)[\s.-]?)?"
            r"[0-9]{1,5}(?:[\s.-]?[0-9]{1,5}){1,5}" + _EXT + _NUM_END,
            _PHONE_B,
        )
        for first, lead in ((r"\+", ""), ("0", "0"))
    ),
    # (555) 123-4567, (01632) 960123, (04149) 04079, (0832)-168124
    Alternative(
        "phone",
        r"\(",
        r"(?:[0-9]{3}\)\s?[0-9]{3}[\s.-]?[0-9]{4}"
        r"|0[0-9]{1,5}\)[\s.-]?[0-9]{2,8}(?:[\s.-]?[0-9]{2,8}){0,2})" + _EXT + _NUM_END,
        r"[\w]",
    ),
    # 555-123-4567, 555.123.4567, 1-800-555-1234 (not with spaces: "512 256 2048" is sizes)
    Alternative(
        "phone",
        "[0-9]",
        r"(?:(?<=1)[.-][0-9]{3}|[0-9]{2})(?P<phone_sep>[.-])[0-9]{3}(?P=phone_sep)[0-9]{4}"
        + _EXT
        + _NUM_END,
        _PHONE_B,
    ),
    # 020 7946 0958, 01632 960123, 030-1234567; 01 23 45 67 89, 06.12.34.56.78
    Alternative(
        "phone",
        "0",
        r"[1-9][0-9]{1,3}[\s-][0-9]{2,8}(?:[\s-]?[0-9]{2,8})?" + _EXT + _NUM_END,
        _PHONE_B,
    ),
    Alternative("phone", "0", r"[1-9](?:[\s.-][0-9]{2}){4}" + _EXT + _NUM_END, _PHONE_B),
    # 0321336160, 07020520917: national numbers written without separators; 10 digits with
    # valid NANP area and exchange codes (epoch seconds start with 1, so never qualify)
    Alternative("phone", "0", r"[1-9][0-9]{8,10}" + _NUM_END, _PHONE_B),
    Alternative("phone", "[2-9]", r"[0-9]{2}[2-9][0-9]{6}" + _NUM_END, _PHONE_B),
    Alternative(
        "ipv4", "[0-9]", r"[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}" + _NUM_END, r"[\w.]"
    ),
    # Needs "::" or all eight groups, so times (10:23:45) and MACs never qualify.
    Alternative(
        "ipv6",
        "[0-9A-Fa-f:]",
        r"(?:(?<=:):|(?=[0-9A-Fa-f:]{0,38}::)|(?<=[0-9A-Fa-f])(?=[0-9A-Fa-f]{0,3}(?::[0-9A-Fa-f]{1,4}){7}))"
        r"[0-9A-Fa-f:]{1,38}(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?(?<![0-9A-Fa-f]:)(?:%[\w.]{1,16})?(?!\w|:[0-9A-Fa-f:]|\.[0-9])",
        r"[\w:.]",
    ),
)

CLASS_OF = {f"a{index}": alt.cls for index, alt in enumerate(ALTERNATIVES)}
# The inclusion groups of each class ("phone" and "phone_word" for phones).
GROUPS: dict[str, frozenset[str]] = {
    cls: frozenset(alt.included_by for alt in ALTERNATIVES if alt.cls == cls)
    for cls in CLASS_OF.values()
}
NUMERIC = frozenset({"card", "ssn", "phone", "ipv4"})


def combined(included: Iterable[str]) -> re.Pattern[str]:
    """One scan for every alternative of the `included` classes."""
    wanted = set(included)
    chosen = [(i, alt) for i, alt in enumerate(ALTERNATIVES) if alt.included_by in wanted]
    if not chosen:
        return re.compile(r"(?!)")
    firsts = "".join(_class_body(alt.first) for _, alt in chosen)
    # Every alternative but the private-key block refuses to start inside a word: checking that
    # once, before the branches, rejects most digits and letters with one test.
    hoist = all(alt.boundary for _, alt in chosen)
    branches = []
    # Neighbours with the same first character and boundary share one guard: the lookbehinds
    # are zero-width, so testing them once before the group finds what testing them before
    # each branch does, in the same order (-7 % on a numeric scan, -25 % on every class).
    for (first, boundary), group in itertools.groupby(
        chosen, key=lambda pair: (pair[1].first, pair[1].boundary)
    ):
        guard = f"(?<={first})" if len(chosen) > 1 else ""
        if boundary:
            guard += f"(?<!{boundary}.)"
        rests = [f"{alt.rest}(?P<a{index}>)" for index, alt in group]
        branches.append(guard + (rests[0] if len(rests) == 1 else f"(?:{'|'.join(rests)})"))
    head = f"[{firsts}]" + (r"(?<!\w.)" if hoist else "")
    return re.compile(f"{head}(?:{'|'.join(branches)})")


def _class_body(first: str) -> str:
    return first[1:-1] if first.startswith("[") else first


# --- the key=value pass ------------------------------------------------------------------------
# Stems of key names worth a look (the key policy decides); run on lower-cased text.
KEY_STEMS = (
    "pass", "pwd", "secret", "token", "auth", "cookie", "session", "credential", "ssn",
    "cvv", "cvc", "pin", "otp", "key", "jwt", "bearer", "phone", "tel", "mobile", "fax",
    "card", "dsn", "msisdn", "cell", "pan",
)  # fmt: skip
KEY_VALUE = re.compile(
    "(?:" + "|".join(KEY_STEMS) + ")"
    r"(?P<kv_tail>[\w.$@-]{0,48}+)(?P<kv_q>\\?[\"']?)"
    # Spaces may follow `:` and `=>`, not `=`: in `token= next=1` the token is empty.
    r"(?P<kv_sep>\s{0,3}+(?:=>\s{0,3}+|:(?!//)\s{0,3}+|=))"
    # Repeated groups are greedy, not possessive: CPython 3.11.2's `re` (Debian 12's) lets a
    # possessive group repeat keep the characters of an iteration that failed (`token: x; y`
    # took `x; ` as the value, lookahead ignored). Each repeat here stops at a character its
    # continuation cannot start with, or ends the pattern, so greedy finds the same matches.
    r"(?P<kv_value>"
    r"\"(?:[^\"\\\n]|\\.){0,2048}\""
    r"|'(?:[^'\\\n]|\\.){0,2048}'"
    r"|\\\"(?:[^\"\\\n]|\\[^\"]){0,2048}\\\""
    r"|(?:bearer|basic|token|digest|negotiate)\s+[^\s,;&\"'<>]{1,4096}+"
    # A bare value runs to whitespace; `&` ends it before the next `key=`, `,` and `;` before
    # a space (passwords are full of punctuation). `; key=value` pairs continue a cookie.
    r"|(?:[^\s&,;\"'<>]|&(?![\w.-]{1,64}=)|[,;](?!\s|$)){1,4096}"
    r"(?:;\s?[^\s,;&\"'<>=\[\]]{1,64}=[^\s,;&\"'<>\[\]]{0,4096})*"
    r")"
)
KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.$@-")
