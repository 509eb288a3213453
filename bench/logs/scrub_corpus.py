"""Labelled lines for the scrubber benchmark: one PII value per line, plus tricky benign text.

Faker makes the values (several locales for phones and IBANs); templates put them where logs
put them: free text, key=value, JSON, query strings, URLs. A line counts as scrubbed when no
trace of its value is left in the output (the value itself, or its digits for numbers).
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker


@dataclass(frozen=True)
class Line:
    cls: str  # "benign" for lines that must come out unchanged
    text: str
    value: str  # what must not survive ("" for benign lines)


TEMPLATES = [
    "user {v} logged in",
    "payment failed for {v}: card declined",
    "sending receipt to {v} (attempt 2)",
    'event={{"kind": "signup", "contact": "{v}", "plan": "pro"}}',
    "GET /api/users?lookup={v}&page=2 200",
    "{v}",
    "[worker-3] could not reach {v}; retrying in 30s",
    "profile updated: {v}, region=eu-west-1",
]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def generators(rng: random.Random) -> dict[str, Callable[[], tuple[str, str]]]:
    """Per class: a function returning (value as it appears, what must disappear)."""
    fakes = {loc: Faker(loc) for loc in ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES")}
    for index, fake in enumerate(fakes.values()):
        fake.seed_instance(rng.randint(0, 10**9) + index)
    us = fakes["en_US"]

    def card() -> tuple[str, str]:
        number = us.credit_card_number()
        style = rng.random()
        if style < 0.5 or len(number) not in (16, 15):
            return number, number
        sep = " " if style < 0.75 else "-"
        groups = (
            [number[:4], number[4:8], number[8:12], number[12:]]
            if len(number) == 16
            else [number[:4], number[4:10], number[10:]]
        )
        return sep.join(groups), number

    def phone() -> tuple[str, str]:
        fake = rng.choice(list(fakes.values()))
        value = fake.phone_number()
        return value, value

    def jwt() -> tuple[str, str]:
        token = ".".join(
            [
                _b64({"alg": "HS256", "typ": "JWT"}),
                _b64({"sub": us.uuid4(), "name": us.name(), "iat": rng.randint(1, 2**31)}),
                base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            ]
        )
        return token, token

    def bearer() -> tuple[str, str]:
        token = rng.choice([us.sha256(), secrets.token_urlsafe(24), us.uuid4(), us.md5()])
        return f"Authorization: Bearer {token}", token

    def api_key() -> tuple[str, str]:
        alnum = string.ascii_letters + string.digits
        key = rng.choice(
            [
                "AKIA"
                + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
                "ghp_" + "".join(rng.choice(alnum) for _ in range(36)),
                "sk_live_" + "".join(rng.choice(alnum) for _ in range(24)),
                "xoxb-"
                + "-".join("".join(rng.choice(string.digits) for _ in range(12)) for _ in range(2))
                + "-"
                + "".join(rng.choice(alnum) for _ in range(24)),
                "AIza" + "".join(rng.choice(alnum + "_-") for _ in range(35)),
            ]
        )
        return key, key

    def url_credentials() -> tuple[str, str]:
        password = us.password(length=rng.randint(8, 16), special_chars=False)
        scheme = rng.choice(["postgres", "mysql", "redis", "https", "amqp"])
        return f"{scheme}://{us.user_name()}:{password}@{us.domain_name()}:5432/app", password

    def secret_key() -> tuple[str, str]:
        password = us.password(length=rng.randint(10, 18))
        key = rng.choice(
            [
                "password",
                "passwd",
                "secret",
                "api_key",
                "apiKey",
                "access_token",
                "client_secret",
                "auth_token",
                "X-Api-Key",
                "session_id",
                "pwd",
            ]
        )
        form = rng.choice(["{k}={v}", '"{k}": "{v}"', "{k}: '{v}'", "?{k}={v}&lang=en"])
        return form.format(k=key, v=password), password

    def ssn() -> tuple[str, str]:
        value = us.ssn()
        return value, value

    def iban() -> tuple[str, str]:
        fake = rng.choice(list(fakes.values()))
        value = fake.iban()
        return value, value

    return {
        "email": lambda: (lambda v: (v, v))(
            rng.choice([us.email(), us.free_email(), us.company_email(), us.ascii_email()])
        ),
        "card": card,
        "phone": phone,
        "ipv4": lambda: (lambda v: (v, v))(
            rng.choice([us.ipv4(), us.ipv4_public(), us.ipv4_private()])
        ),
        "ipv6": lambda: (lambda v: (v, v))(us.ipv6()),
        "iban": iban,
        "ssn": ssn,
        "jwt": jwt,
        "bearer": bearer,
        "api_key": api_key,
        "url_credentials": url_credentials,
        "secret_key": secret_key,
    }


def benign(rng: random.Random) -> Callable[[], str]:
    fake = Faker("en_US")
    fake.seed_instance(rng.randint(0, 10**9))
    r = rng.randint

    def hexes(n: int) -> str:
        return str(fake.hexify("^" * n))

    makers: list[Callable[[], str]] = [
        lambda: fake.sentence(nb_words=r(6, 14)).replace("a ", "a pitch's ", 1),
        lambda: f"it's {fake.first_name()}'s turn; don't retry O'Brien's upload",
        lambda: f"request {fake.uuid4()} finished in {r(1, 999)}ms",
        lambda: f"deployed v{r(0, 20)}.{r(0, 40)}.{r(0, 99)} (build {r(1000, 99999)})",
        lambda: f"release {r(1, 9)}.{r(0, 9)}.{r(0, 9)}.{r(0, 99)} rolled out",
        lambda: f"at {fake.iso8601()} job {fake.word()} started",
        lambda: f"{fake.date_time():%Y-%m-%d %H:%M:%S},{r(100, 999)} INFO worker ready",
        lambda: f"epoch {r(1_600_000_000_000, 1_800_000_000_000)} lag {r(1, 9000)}ms",
        lambda: f"commit {fake.sha1()} trace {fake.md5()} span {hexes(16)}",
        lambda: f"trace_id={hexes(32)} span_id={hexes(16)}",
        lambda: f"price {fake.pricetag()} total ${r(1, 99999):,}.{r(0, 99):02d}",
        lambda: f"order #{r(10000, 99999999)} shipped {r(1, 50)} items",
        lambda: f"GET /api/pitches/{r(1, 10**6)}/comments?page={r(1, 9)} 200 {r(100, 99999)}b",
        lambda: f"listening on 0.0.0.0:{r(1024, 65535)} pid={r(100, 99999)}",
        lambda: f"resized image to {r(100, 4000)}x{r(100, 4000)} q={r(50, 95)}",
        lambda: f"token_count={r(1, 5000)} max_tokens={r(100, 9000)} auth_method=oauth",
        lambda: "Session: started; Token: expired; Password: reset link sent",
        lambda: f"batch {r(1, 999)}/{r(1000, 5000)} took {rng.random() * 10:.3f}s",
        lambda: f"{fake.catch_phrase()} - {fake.bs()}",
        lambda: f"disk {r(1, 99)}% used, {r(1, 900)} GiB free on /dev/sd{fake.random_letter()}",
        lambda: f"buffers {r(1, 4) * 128} {r(1, 4) * 256} {r(1, 4) * 1024}",
        lambda: f"std::vector<int> resized; mac {fake.mac_address()} pod api-{hexes(9)}-x2k4p",
        lambda: f"at {fake.latitude()}, {fake.longitude()} color #{hexes(6)} {r(1, 100)}%",
        lambda: f"windows build 10.0.{r(10000, 22631)}.{r(1, 4000)} kb{r(4000000, 5999999)}",
        lambda: f"{fake.file_name()} {r(1, 10**9)} bytes sha256:{fake.sha256()}",
        lambda: f"retry after PT{r(1, 59)}M{r(1, 59)}S; semver >={r(1, 9)}.0.0 <{r(10, 20)}.0.0",
    ]
    return lambda: rng.choice(makers)()


def corpus(per_class: int, benign_lines: int, seed: int = 7) -> list[Line]:
    rng = random.Random(seed)
    lines = []
    for cls, make in generators(rng).items():
        for _ in range(per_class):
            shown, secret = make()
            lines.append(Line(cls, rng.choice(TEMPLATES).format(v=shown), secret))
    make_benign = benign(rng)
    lines += [Line("benign", make_benign(), "") for _ in range(benign_lines)]
    return lines
