"""The scrubber replaces personal data and secrets with typed, keyed markers - and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from obs_schema.scrubbing import Scrubber, ScrubConfig, ScrubConfigError

KEY = b"test-deployment-key"
S = Scrubber(ScrubConfig(key=KEY))


def m(kind: str, canonical: str) -> str:
    return S.marker(kind, canonical)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # emails (case-folded, URL-encoded too)
        ("user alice@example.com logged in", f"user {m('email', 'alice@example.com')} logged in"),
        (
            "to: Bob.Smith+tag@Mail.Example.CO.UK.",
            f"to: {m('email', 'bob.smith+tag@mail.example.co.uk')}.",
        ),
        ("GET /u?email=alice%40example.com", f"GET /u?email={m('email', 'alice@example.com')}"),
        # cards: Luhn-checked, plain, spaced, dashed, Amex grouping, Maestro 12 digits
        ("card 4111111111111111 ok", f"card {m('card', '4111111111111111')} ok"),
        ("card 4111 1111 1111 1111", f"card {m('card', '4111111111111111')}"),
        ("card 4111-1111-1111-1111.", f"card {m('card', '4111111111111111')}."),
        ("amex 3782 822463 10005", f"amex {m('card', '378282246310005')}"),
        ("maestro 501853618244", f"maestro {m('card', '501853618244')}"),
        ("card 4111 1111 1111 1111 2024", f"card {m('card', '4111111111111111')} 2024"),
        # phones: international and national formats, extensions
        ("call +44 20 7946 0958 now", f"call {m('phone', '+442079460958')} now"),
        ("+1-555-123-4567x890", m("phone", "+15551234567890")),
        ("(555) 123-4567", m("phone", "5551234567")),
        ("555.123.4567", m("phone", "5551234567")),
        ("001-555-123-4567", m("phone", "0015551234567")),
        ("tel +33 (0)1 23 45 67 89", f"tel {m('phone', '+330123456789')}"),
        ("ring 01 23 45 67 89", f"ring {m('phone', '0123456789')}"),
        ("office 020 7946 0958", f"office {m('phone', '02079460958')}"),
        ("(01632) 960123", m("phone", "01632960123")),
        ("call 5551234567 back", f"call {m('phone', '5551234567')} back"),
        ("to 6578431609 now", f"to {m('phone', '6578431609')} now"),
        ("mobile 07020520917", f"mobile {m('phone', '07020520917')}"),
        ("tel (04149) 04079", f"tel {m('phone', '0414904079')}"),
        ("fax 02638 02792.", f"fax {m('phone', '0263802792')}."),
        ("jcb 3502-4103-6447-1266", f"jcb {m('card', '3502410364471266')}"),
        # IPv4 (without leading zeros in the hash) and IPv6
        ("from 10.0.0.1:443", f"from {m('ipv4', '10.0.0.1')}:443"),
        ("peer=203.0.113.7", f"peer={m('ipv4', '203.0.113.7')}"),
        ("ip fe80::1%eth0", f"ip {m('ipv6', 'fe80::1')}"),
        (
            "from 2dae:b8b4:1d5:d878:296e:f53e:3de2:ada5: refused",
            f"from {m('ipv6', '2dae:b8b4:1d5:d878:296e:f53e:3de2:ada5')}: refused",
        ),
        ("src 2001:DB8:0:0:0:0:0:1 ok", f"src {m('ipv6', '2001:db8::1')} ok"),
        ("mapped ::ffff:192.0.2.1", f"mapped {m('ipv6', '::ffff:c000:201')}"),
        # IBAN (mod-97), compact and grouped
        ("iban GB82WEST12345698765432", f"iban {m('iban', 'GB82WEST12345698765432')}"),
        ("DE89 3704 0044 0532 0130 00", m("iban", "DE89370400440532013000")),
        # US SSN
        ("ssn 123-45-6789", f"ssn {m('ssn', '123456789')}"),
        # JWT, bearer tokens, API keys
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nat-ure",
            f"jwt {m('jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nat-ure')}",
        ),
        ("sent Bearer abc123def456ghi", f"sent Bearer {m('token', 'abc123def456ghi')}"),
        ("key AKIAIOSFODNN7EXAMPLE", f"key {m('token', 'AKIAIOSFODNN7EXAMPLE')}"),
        ("gh ghp_" + "a" * 36, "gh " + m("token", "ghp_" + "a" * 36)),
        (
            "stripe sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
            "stripe " + m("token", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ),
        # URL credentials
        (
            "db postgres://admin:s3cret@db:5432/app",
            f"db postgres://{m('credentials', 'admin:s3cret')}@db:5432/app",
        ),
        # values of sensitive keys, in text, JSON, query strings
        ("password=hunter2 user=bob", f"password={m('secret', 'hunter2')} user=bob"),
        ("?pwd=(ssI(*KqC11&lang=en", f"?pwd={m('secret', '(ssI(*KqC11')}&lang=en"),
        ("passwd=&#WRg#AfG*9, then", f"passwd={m('secret', '&#WRg#AfG*9')}, then"),
        (
            '{"apiKey": "k-123", "max_tokens": 12}',
            f'{{"apiKey": "{m("secret", "k-123")}", "max_tokens": 12}}',
        ),
        (
            "GET /x?access_token=abc123&page=2",
            f"GET /x?access_token={m('secret', 'abc123')}&page=2",
        ),
        (
            "Authorization: Bearer abc123def456",
            f"Authorization: Bearer {m('secret', 'abc123def456')}",
        ),
        ("Cookie: sid=abc123; theme=dark", f"Cookie: {m('secret', 'sid=abc123; theme=dark')}"),
        ("client_secret: 'p w d'", f"client_secret: '{m('secret', 'p w d')}'"),
        ('{\\"password\\":\\"x1\\"}', f'{{\\"password\\":\\"{m("secret", "x1")}\\"}}'),
        ("phone_number=+1 555 123 4567", f"phone_number={m('phone', '+15551234567')}"),
    ],
)
def test_each_class_becomes_its_keyed_marker(text: str, expected: str) -> None:
    assert S.scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "took 123ms at 2024-01-15T10:23:45.123Z id 550e8400-e29b-41d4-a716-446655440000",
        "price $1,234.56 (was €1.299,00); total 12,345,678",
        "worker v1.2.3.4 started; version 10.0.19041.1; release 1.2.3.4",
        "it's O'Brien's order, don't retry",
        "trace=5b8efff798038103d269b633813fc60c span=eee19b7ec3c1b174 sha=9f86d081884c7d65",
        "epoch 1700000000000 ns 1700000000000000000 order 99812",
        "at 10:23:45 mac 00:1A:2B:3C:4D:5E, std::vector, Foo::Bar",
        "Bearer authentication failed; Session: started; Token: expired",
        "token_count=5 max_tokens=1024 auth_method=oauth password_policy=strict author=kim",
        "sizes 128 256 1024 dims 1920x1080 oid 1.3.6.1.4.1",
        "password=null token= secret=*** [secret:0a1b2c3d]",
        "listening on 0.0.0.0:8080 and 127.0.0.1:9090, broadcast 255.255.255.255, ::1",
        "color #008695 48% buffers 512 256 2048 epoch 1795773600",
    ],
)
def test_benign_text_is_left_alone(text: str) -> None:
    assert S.scrub_text(text) == text


def test_scrubbing_twice_changes_nothing() -> None:
    once = S.scrub_text("alice@example.com 4111111111111111 password=x +44 20 7946 0958 10.0.0.1")
    assert S.scrub_text(once) == once


def test_the_same_value_gets_the_same_marker_and_another_key_another() -> None:
    other = Scrubber(ScrubConfig(key=b"another-deployment"))
    first = S.scrub_text("alice@example.com")
    assert S.scrub_text("ALICE@example.com") == first
    assert other.scrub_text("alice@example.com") != first
    assert first.startswith("[email:") and len(first) == len("[email:12345678]")


def test_values_under_sensitive_keys_become_markers_whatever_they_are() -> None:
    value: dict[str, Any] = {
        "user": {
            "email": "A@B.com",
            "password": "x",
            "pin": 1234,
            "token_count": 5,
            "auth_method": "pw",
            "phone": "+1 555 123 4567",
            "card": 4111111111111111,
            "nested": [{"apiKey": "k"}, "call +44 20 7946 0958"],
            "session": None,
            "secret_enabled": True,
        },
        "bob@example.com": 3,
    }
    assert S.scrub_value(value) == {
        "user": {
            "email": m("email", "a@b.com"),
            "password": m("secret", "x"),
            "pin": m("secret", "1234"),
            "token_count": 5,
            "auth_method": "pw",
            "phone": m("phone", "15551234567"),
            "card": m("card", "4111111111111111"),
            "nested": [{"apiKey": m("secret", "k")}, f"call {m('phone', '+442079460958')}"],
            "session": None,
            "secret_enabled": True,
        },
        m("email", "bob@example.com"): 3,
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("hash", f"from {m('ipv4', '203.0.113.7')} and {m('ipv6', '2001:db8::1')}"),
        ("truncate", "from 203.0.113.0/24 and 2001:db8::/48"),
        ("redact", "from [ipv4] and [ipv6]"),
        ("keep", "from 203.0.113.7 and 2001:db8::1"),
    ],
)
def test_ip_masking_modes(mode: Any, expected: str) -> None:
    scrubber = Scrubber(ScrubConfig(key=KEY, ip_mode=mode))
    assert scrubber.scrub_text("from 203.0.113.7 and 2001:db8::1") == expected


def test_a_deployment_adds_patterns_and_keys_and_allows_keys() -> None:
    scrubber = Scrubber(
        ScrubConfig(
            key=KEY,
            extra_patterns={"pitch_id": r"PITCH-[0-9]{6}"},
            sensitive_keys=frozenset({"x-pitchey-session"}),
            allow_keys=frozenset({"password_hint"}),
        )
    )
    text = "PITCH-123456 x-pitchey-session=abc password_hint=dog"
    assert scrubber.scrub_text(text) == (
        f"{scrubber.marker('pitch_id', 'PITCH-123456')} "
        f"x-pitchey-session={scrubber.marker('secret', 'abc')} password_hint=dog"
    )


def test_disabled_classes_are_not_scrubbed() -> None:
    scrubber = Scrubber(ScrubConfig(key=KEY, disabled=frozenset({"email", "secret"})))
    assert scrubber.scrub_text("alice@example.com password=x") == "alice@example.com password=x"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"ip_mode": "hide"}, "ip_mode must be one of"),
        ({"disabled": frozenset({"emails"})}, "unknown classes to disable: emails"),
        ({"extra_patterns": {"Bad Name": "x"}}, "must be lower-case letters"),
        ({"extra_patterns": {"email": "x"}}, "is a built-in class"),
        ({"extra_patterns": {"x": "("}}, "does not compile"),
        ({"extra_patterns": {"x": "a*"}}, "matches the empty string"),
    ],
)
def test_unusable_configuration_is_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ScrubConfigError, match=message):
        ScrubConfig(**config)
