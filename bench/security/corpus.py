"""Attack payloads and benign traffic for the detection benchmark, from installed packages.

Attack lists come from Debian packages (`wfuzz`, `sqlmap`, `wapiti`, `modsecurity-crs`) and
npm's `blns`; benign text from Debian's `fortunes-min` and `wamerican`, Python's own standard
library source (code snippets), and real browser User-Agents from PyPI's `fake-useragent` and
sqlmap's list. Where a class has no list in any package (SSRF), payloads are generated from
the published evasion families and the table says so. Sampling is seeded: every run measures
the same strings. `python bench/security/setup.sh` installs the sources.
"""

from __future__ import annotations

import glob
import json
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

WFUZZ = Path("/usr/share/wfuzz/wordlist")
WAPITI = Path("/usr/lib/python3/dist-packages/wapitiCore/data/attacks")
SQLMAP = Path("/usr/share/sqlmap/data/xml/payloads")
CRS = Path("/usr/share/modsecurity-crs/rules")
BLNS = Path(__file__).parent / ".cache/node_modules/blns/resources/blns.txt"  # setup.sh
FORTUNES = Path("/usr/share/games/fortunes")
WORDS = Path("/usr/share/dict/american-english")
SEED = 20261127


@dataclass
class Sample:
    text: str
    source: str
    placement: str = "query"  # query | body | header.user-agent | method | path | json


@dataclass
class Corpus:
    attacks: dict[str, list[Sample]] = field(default_factory=dict)
    benign: dict[str, list[Sample]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _lines(path: Path, source: str, placement: str = "query") -> list[Sample]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    return [Sample(line, source, placement) for line in text.splitlines() if line.strip()]


def _probe(text: str) -> bool:
    """Bare probes (a lone quote, `--`, `TRUE`, `%20'`) are not attacks a WAF can or should
    flag: after decoding they are punctuation only, one word, or a number."""
    stripped = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), unquote(text))
    stripped = stripped.strip()
    return len(stripped) <= 3 or bool(re.fullmatch(r"[\W_]+|[A-Za-z]+|-?\d+(\.\d+)?", stripped))


def _blns_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = "preamble"
    if not BLNS.exists():
        return sections
    for line in BLNS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            if title and not title.lower().startswith("string") and "(c.f." not in title:
                current = title
            continue
        if line:
            sections.setdefault(current, []).append(line)
    return sections


def _sqlmap() -> list[Sample]:
    rng = random.Random(SEED)
    fills = {
        "[RANDNUM]": lambda: str(rng.randint(1000, 9999)),
        "[RANDSTR]": lambda: "".join(rng.choice("abcdefghij") for _ in range(4)),
        "[SLEEPTIME]": lambda: "5",
        "[DELAYED]": lambda: "SLEEP(5)",
        "[INFERENCE]": lambda: "4511=4511",
        "[ORIGVALUE]": lambda: "1",
        "[DELIMITER_START]": lambda: "qzvkq",
        "[DELIMITER_STOP]": lambda: "qjxbq",
        "[QUERY]": lambda: "SELECT VERSION()",
        "[GENERIC_SQL_COMMENT]": lambda: "-- -",
        "[CHAR]": lambda: "NULL",
        "[COLSTART]": lambda: "1",
        "[COLSTOP]": lambda: "10",
        "[UNION]": lambda: "UNION ALL SELECT NULL,NULL,CONCAT(0x716b6b6a71,0x4f7a),NULL-- -",
    }
    boundaries = [("1 ", ""), ("1' ", " AND 'a'='a"), ("1) ", "-- -"), ("x' ", "#")]
    samples = []
    for path in sorted(SQLMAP.glob("*.xml")):
        root = ET.parse(path).getroot()  # noqa: S314 - trusted local package files
        for index, test in enumerate(root.iter("test")):
            payload = test.findtext("request/payload") or ""
            if not payload:
                continue
            comment = test.findtext("request/comment") or ""
            prefix, suffix = boundaries[index % len(boundaries)]
            text = (
                f"{prefix}{payload}{comment}{suffix}"
                if payload[0] not in ";"
                else (f"1{payload}{comment}")
            )
            for token, fill in fills.items():
                while token in text:
                    text = text.replace(token, fill(), 1)
            text = re.sub(r"\[[A-Z_0-9]+\]", "1", text)
            samples.append(Sample(text, f"sqlmap {path.stem}"))
    return samples


def _wapiti_ini(path: Path, source: str) -> list[Sample]:
    if not path.exists():
        return []
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("payload = "):
            text = line.removeprefix("payload = ")
            text = text.replace("__XSS__", "xss1234").replace("[EXTERNAL_ENDPOINT]", "http://x.io/")
            text = text.replace("[FILE_NAME]", "index.php").replace("\\0", "\x00")
            text = text.replace("[LF]", "\n").replace("[ATTR_SEP]", " ")
            text = text.replace("[VALUE_SEP]", '"').replace("[TAB]", "\t")
            samples.append(Sample(text, source))
    return samples


def _wapiti_templates(path: Path, source: str) -> list[Sample]:
    fills = {
        "[VALUE]": "1",
        "[LF]": "\n",
        "[TAB]": "\t",
        "[TIME]": "5",
        "[TIMEOUT]": "",
        "[FILE_NAME]": "index.php",
    }
    samples = []
    for sample in _lines(path, source):
        text = sample.text
        for token, fill in fills.items():
            text = text.replace(token, fill)
        samples.append(Sample(text, source))
    return samples


def _ssrf_generated() -> list[Sample]:
    """The evasion families of public SSRF cheat sheets, crossed with common parameters."""
    hosts = [
        "127.0.0.1",
        "localhost",
        "127.1",
        "0",
        "0.0.0.0",  # noqa: S104 - an SSRF target string, nothing binds
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "017700000001",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "169.254.169.254",
        "2852039166",
        "0xa9fea9fe",
        "0251.0376.0251.0376",
        "[::ffff:a9fe:a9fe]",
        "[fd00:ec2::254]",
        "metadata.google.internal",
        "100.100.100.200",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "127.0.0.1.nip.io",
        "spoofed.burpcollaborator.net",
        "kubernetes.default.svc",
        "169.254.170.2",
        "[::]",
        "localhost.localdomain",
        "0x0a000001",
        "3232235777",
    ]
    paths = [
        "/",
        "/latest/meta-data/iam/security-credentials/",
        "/computeMetadata/v1/",
        "/admin",
        ":6379/",
        ":8080/actuator/env",
    ]
    forms = [
        "http://{h}{p}",
        "https://{h}{p}",
        "//{h}{p}",
        "http://user@{h}{p}",
        "http://google.com@{h}{p}",
        "http:\\\\{h}{p}",
        "HTTP://{h}{p}",
    ]
    rng = random.Random(SEED)
    samples = [
        Sample(f.format(h=h, p=rng.choice(paths)), "generated ssrf") for h in hosts for f in forms
    ]
    for scheme in (
        "gopher://127.0.0.1:6379/_INFO",
        "dict://localhost:11211/stats",
        "file:///etc/passwd",
        "ldap://127.0.0.1/",
        "tftp://10.0.0.1/x",
        "gopher://metadata:80/_GET%20/",
        "jar:http://127.0.0.1!/x",
        "netdoc:///etc/passwd",
    ):
        samples.append(Sample(scheme, "generated ssrf"))
    return samples


def _protocol_generated() -> list[Sample]:
    methods = _lines(WFUZZ / "general" / "http_methods.txt", "wfuzz http_methods", "method")
    odd = [
        s
        for s in methods
        if s.text.strip().upper()
        not in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    ]
    headers = [
        Sample("x" * 9000, "generated oversized header", "header.x-long"),
        Sample("a\r\nSet-Cookie: x=1", "generated CRLF header", "header.x-forwarded-host"),
        Sample("chunked", "generated TE+CL smuggling", "smuggle"),
        Sample("bad header name", "generated invalid header name", "header-name"),
    ]
    return odd + headers


def load() -> Corpus:
    corpus = Corpus()
    blns = _blns_sections()
    attack_sections = {
        "Script Injection": "xss",
        "SQL Injection": "sqli",
        "Server Code Injection": "command_injection",
        "Command Injection (Ruby)": "command_injection",
        "File Inclusion": "path_traversal",
    }
    sources: dict[str, list[Sample]] = {
        "sqli": _lines(WFUZZ / "Injections" / "SQL.txt", "wfuzz SQL")
        + _lines(WFUZZ / "vulns" / "sql_inj.txt", "wfuzz sql_inj")
        + _wapiti_templates(WAPITI / "blindSQLPayloads.txt", "wapiti blindSQL")
        + _sqlmap(),
        "xss": _lines(WFUZZ / "Injections" / "XSS.txt", "wfuzz XSS")
        + _wapiti_ini(WAPITI / "xssPayloads.ini", "wapiti xssPayloads"),
        "path_traversal": _lines(WFUZZ / "Injections" / "Traversal.txt", "wfuzz Traversal")
        + _lines(WFUZZ / "vulns" / "dirTraversal-nix.txt", "wfuzz dirTraversal-nix")
        + _lines(WFUZZ / "vulns" / "dirTraversal-win.txt", "wfuzz dirTraversal-win")
        + _wapiti_ini(WAPITI / "fileHandlingPayloads.ini", "wapiti fileHandling"),
        "command_injection": _wapiti_templates(WAPITI / "execPayloads.txt", "wapiti exec"),
        "ssrf": _ssrf_generated(),
        "scanner": [
            Sample(s.text, "crs scanners-user-agents", "header.user-agent")
            for s in _lines(CRS / "scanners-user-agents.data", "")
            if not s.text.startswith("#")
        ],
        "protocol_anomaly": _protocol_generated(),
    }
    for section, kind in attack_sections.items():
        sources[kind] += [Sample(t, f"blns {section}") for t in blns.get(section, [])]
    for kind, samples in sources.items():
        seen: set[str] = set()
        unique = []
        for s in samples:
            if s.text not in seen and (
                kind in ("scanner", "protocol_anomaly") or not _probe(s.text)
            ):
                seen.add(s.text)
                unique.append(s)
        corpus.attacks[kind] = unique
    corpus.benign = _benign(blns, attack_sections)
    for path in (WFUZZ, WAPITI, SQLMAP, CRS, BLNS, FORTUNES, WORDS):
        if not path.exists():
            corpus.missing.append(str(path))
    return corpus


def _benign(blns: dict[str, list[str]], attack_sections: dict[str, str]) -> dict[str, list[Sample]]:
    rng = random.Random(SEED)
    english = []
    for name in ("fortunes", "literature", "riddles"):
        path = FORTUNES / name
        if path.exists():
            for block in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
                text = " ".join(block.split())
                if 3 < len(text) < 1500:
                    english.append(Sample(text, f"fortunes {name}"))
    words = (
        [w for w in WORDS.read_text(encoding="utf-8").split() if w.isalpha()]
        if WORDS.exists()
        else []
    )
    searches = []
    templates = [
        "{a}",
        "{a} {b}",
        "{a} {b} {c}",
        '"{a} {b}"',
        "{a} -{b}",
        "{a} OR {b}",
        "{a}'s {b}",
        "{a} & {b}",
        "{a} {b} 2024",
        "best {a} for {b}",
        "{a}/{b}",
        "{a} vs. {b}",
        "how to {a} a {b}?",
        "{a} (film)",
        "{a}: {b}",
        "{a} + {b}",
        "#{a} {b}",
        "{a} @ {b}",
        "{a}-{b} {c}!",
        "{a} {b} ~ {c}",
    ]
    for _ in range(3000):
        a, b, c = (rng.choice(words) for _ in range(3))
        searches.append(Sample(rng.choice(templates).format(a=a, b=b, c=c), "wamerican searches"))
    code = []
    for path in sorted(glob.glob("/usr/lib/python3.11/*.py"))[:200]:
        lines = [ln.strip() for ln in Path(path).read_text(errors="replace").splitlines()]
        code += [Sample(ln, "python stdlib source") for ln in lines if len(ln) > 12]
    code = rng.sample(code, min(3000, len(code)))
    bodies = []
    for i in range(1500):
        pitch = {
            "title": rng.choice(english).text[:80] if english else "A title",
            "logline": rng.choice(english).text[:300] if english else "",
            "genres": rng.sample(["drama", "comedy", "sci-fi", "horror", "documentary"], 2),
            "budget": {"amount": rng.randint(1, 90) * 100_000, "currency": "USD"},
            "tags": [rng.choice(words) for _ in range(3)] if words else [],
            "snippet": rng.choice(code).text if code else "",
            "page": i % 7,
        }
        bodies.append(Sample(json.dumps(pitch), "generated pitch JSON", "json"))
    agents = []
    ua_path = (
        Path(__file__).resolve().parents[2]
        / ".venv/lib/python3.11/site-packages/fake_useragent/data/browsers.jsonl"
    )
    if ua_path.exists():
        for line in ua_path.read_text().splitlines():
            agents.append(
                Sample(json.loads(line)["useragent"], "fake-useragent", "header.user-agent")
            )
    agents += [
        Sample(s.text, "sqlmap user-agents", "header.user-agent")
        for s in _lines(Path("/usr/share/sqlmap/data/txt/user-agents.txt"), "")
        if not s.text.startswith("#")
    ]
    naughty = [
        Sample(t, f"blns {section}")
        for section, texts in blns.items()
        if section not in attack_sections
        and not any(
            word in section
            for word in (
                "XXE",
                "Known CVEs",
                "Unwanted Interpolation",
                "Terminal escape",
                "MSDOS/Windows",
                "iOS Vulnerability",
            )
        )
        for t in texts
    ]
    return {
        "english": english,
        "search": searches,
        "code": code,
        "json": bodies,
        "user_agent": agents,
        "blns_benign": naughty,
    }
