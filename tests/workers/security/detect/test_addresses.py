"""IP literals in every spelling a client accepts, and which of them are internal."""

from __future__ import annotations

import pytest

from security.detect.addresses import internal_name, is_internal_address, parse_host


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("2852039166", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("[::1]", "::1"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("[fe80::1%eth0]", "fe80::1"),
        ("example.com", None),
        ("256.1.1.1", None),
        ("08.1.1.1", None),  # 08 is not octal
    ],
)
def test_hosts_parse_as_inet_aton_would(host: str, address: str | None) -> None:
    parsed = parse_host(host)
    assert (None if parsed is None else str(parsed)) == address


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("10.1.2.3", True),
        ("172.31.0.1", True),
        ("192.168.0.1", True),
        ("100.64.1.1", True),
        ("169.254.169.254", True),
        ("[::ffff:169.254.169.254]", True),
        ("[64:ff9b::a00:1]", True),
        ("[fd00:ec2::254]", True),
        ("[2002:7f00:1::]", True),
        ("8.8.8.8", False),
        ("[2606:4700::1111]", False),
    ],
)
def test_internal_addresses_are_recognised_through_ipv6_embeddings(
    host: str, internal: bool
) -> None:
    parsed = parse_host(host)
    assert parsed is not None and is_internal_address(parsed) is internal


@pytest.mark.parametrize(
    ("name", "internal"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("metadata.google.internal", True),
        ("10.0.0.5.nip.io", True),
        ("app-10-0-0-5.sslip.io", True),
        ("8.8.8.8.nip.io", False),
        ("pitchey.com", False),
    ],
)
def test_internal_names(name: str, internal: bool) -> None:
    assert internal_name(name) is internal
