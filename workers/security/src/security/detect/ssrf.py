"""Server-side request forgery: a URL in a parameter that points inside the network.

Every URL-looking thing in a value (`scheme://`, protocol-relative `//host`) is split the way
a server-side HTTP client would split it - userinfo dropped, a backslash read as a slash, the
port removed - and its host judged with `addresses`: IP literals in any spelling, internal
names, cloud metadata. Schemes that reach non-HTTP services (gopher, dict, file, ldap...)
are SSRF on their own.
"""

from __future__ import annotations

import re

from security.detect.addresses import (
    internal_name,
    is_internal_address,
    is_metadata_address,
    parse_host,
)
from security.detect.normaliser import Views
from security.detect.rules import RuleSet, check_rule, regex_rule

T = "ssrf"
_URL = re.compile(
    r"(?:\b([a-z][a-z0-9+.-]{1,15}):)?(?:/|\\){2}((?:[^/\\?#\s@\"'<>]*@)?"
    r"(?:\[[0-9a-f:.%\w]+\]|[^/\\?#\s:\"'<>\[\]]+)(?::\d{0,5})?)"
)
_SAFE_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "ftps"})
_DANGEROUS_SCHEMES = (
    "gopher|dict|ldap|ldaps|tftp|sftp|ssh|telnet|smb|netdoc|jar|rmi|jdbc|redis|memcache"
)


def _authority_host(authority: str) -> str:
    host = authority.rsplit("@", 1)[-1].split("!", 1)[0]  # jar:http://host!/entry
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


def _internal_target(views: Views) -> tuple[int, int, str] | None:
    text = views.text
    if "//" not in text and "\\\\" not in text and "/\\" not in text and "\\/" not in text:
        return None
    for found in _URL.finditer(text):
        scheme = found.group(1)
        if scheme is not None and scheme not in _SAFE_SCHEMES:
            continue  # other schemes: the scheme rule decides
        host = _authority_host(found.group(2))
        if not host:
            continue
        address = parse_host(host)
        internal = is_internal_address(address) if address is not None else internal_name(host)
        if internal:
            return found.start(), found.end(), "text"
    return None


def _metadata_target(views: Views) -> tuple[int, int, str] | None:
    text = views.text
    if "//" not in text:
        return None
    for found in _URL.finditer(text):
        host = _authority_host(found.group(2))
        address = parse_host(host)
        if (address is not None and is_metadata_address(address)) or host.startswith(
            ("metadata.google.internal", "metadata.goog", "instance-data")
        ):
            return found.start(), found.end(), "text"
    return None


RULES = RuleSet(
    T,
    (
        check_rule(
            "ssrf-metadata",
            T,
            "URL aimed at a cloud metadata service (169.254.169.254 in any spelling)",
            _metadata_target,
        ),
        check_rule(
            "ssrf-internal-host",
            T,
            "URL aimed at loopback, private, link-local or an internal name",
            _internal_target,
        ),
        regex_rule(
            "ssrf-scheme",
            T,
            "URL scheme that talks to non-HTTP services: gopher://, dict://, ldap://",
            rf"\b(?:{_DANGEROUS_SCHEMES}):(?://|\\\\)",
            triggers=":",
        ),
        regex_rule(
            "ssrf-oob-callback",
            T,
            "Out-of-band interaction domain used to confirm blind SSRF",
            r"(?://|@|\.)(?:[\w-]+\.)*(?:burpcollaborator\.net|oastify\.com|oast\.(?:pro|live|"
            r"site|online|fun|me)|interact\.sh|interactsh\.com|requestbin\.net|"
            r"dnslog\.cn|ceye\.io|canarytokens\.com|pipedream\.net|webhook\.site)\b",
            triggers=".",
        ),
    ),
)
