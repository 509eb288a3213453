"""The detection peers, each as a `Flag` over corpus samples, or the reason it is missing."""

from __future__ import annotations

import glob
from collections.abc import Callable
from urllib.parse import unquote

from corpus import Sample
from evaluate import request_for

Flag = Callable[[Sample], tuple[bool, set[str]]]
CRS_RULES = "/usr/share/modsecurity-crs/rules"
CRS_TYPES = {
    "942": "sqli",
    "941": "xss",
    "930": "path_traversal",
    "932": "command_injection",
    "931": "ssrf",
    "913": "scanner",
    "920": "protocol_anomaly",
    "911": "protocol_anomaly",
    "921": "protocol_anomaly",
    "933": "command_injection",
    "934": "command_injection",
}


def crs(paranoia: int = 1) -> Flag | str:
    """OWASP CRS (Debian modsecurity-crs) in libmodsecurity, blocking at its anomaly threshold."""
    try:
        import libmodsecurity as modsec
    except ImportError as error:
        return f"libmodsecurity not installed ({error})"
    files = [f for f in sorted(glob.glob(f"{CRS_RULES}/*.conf")) if "-910-" not in f]
    if not files:
        return "modsecurity-crs not installed"
    rules = [
        "SecRuleEngine On",
        "SecRequestBodyAccess On",
        "SecRequestBodyLimit 13107200",
        "SecRequestBodyNoFilesLimit 131072",
        'SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:200001,phase:1,'
        't:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"',
        f'SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={paranoia}"',
        "Include /etc/modsecurity/crs/crs-setup.conf",
        # 910 (IP reputation) needs GeoIP, which this libmodsecurity build lacks.
        *(f"Include {f}" for f in files),
    ]
    engine, ruleset = modsec.ModSecurity(), modsec.RulesSet()
    engine.set_log_callback(lambda _: None)
    if ruleset.load("\n".join(rules)) < 0:
        return f"CRS did not load: {ruleset.get_parser_error()[:120]}"

    def flag(sample: Sample) -> tuple[bool, set[str]]:
        request = request_for(sample)
        tx = modsec.Transaction(engine, ruleset)
        tx.process_connection("203.0.113.7", 40000, "127.0.0.1", 443)
        uri = request.path + (f"?{request.query}" if request.query else "")
        tx.process_uri(uri, request.method, "1.1")
        for name, value in request.headers:
            tx.add_request_header(name, value)
        if request.body:
            tx.add_request_header("content-length", str(len(request.body.encode())))
        tx.process_request_headers()
        if request.body:
            tx.append_request_body(request.body.encode())
        tx.process_request_body()
        intervention = tx.intervention()
        types = {CRS_TYPES.get(str(m.rule_id)[:3], "other") for m in tx.get_rule_messages()}
        return intervention is not None and intervention.disruptive, types - {"other"}

    return flag


def libinjection() -> Flag | str:
    """libinjection's SQLi and XSS tokenisers on the (once URL-decoded) value."""
    try:
        import libinjection as li
    except ImportError as error:
        return f"libinjection-python not installed ({error})"

    def flag(sample: Sample) -> tuple[bool, set[str]]:
        if sample.placement not in ("query", "json"):
            return False, set()
        text = unquote(sample.text) if sample.placement == "query" else sample.text
        found = set()
        if li.is_sql_injection(text)["is_sqli"]:
            found.add("sqli")
        if li.is_xss(text)["is_xss"]:
            found.add("xss")
        return bool(found), found

    return flag
