"""Private, loopback, link-local and ambiguous numeric targets are refused; public ones pass."""

from __future__ import annotations

import pytest

from localedge.env import Env
from monitoring.targets import allowed_by, host_refusal, url_refusal

REFUSED = [
    "localhost", "api.localhost", "printer.local", "db.internal", "127.0.0.1", "10.1.2.3",
    "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1",
    "::ffff:127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "224.0.0.1", "",
]  # fmt: skip
ALLOWED = ["api.pitchey.com", "1.1.1.1", "2606:4700:4700::1111", "example.org."]


@pytest.mark.parametrize("host", REFUSED)
def test_non_public_hosts_are_refused(host: str) -> None:
    assert host_refusal(host) is not None


@pytest.mark.parametrize("host", ALLOWED)
def test_public_hosts_pass(host: str) -> None:
    assert host_refusal(host) is None


def test_urls_and_the_deployment_switch() -> None:
    assert url_refusal("http://[::1]:8080/x") == "::1 is not a public address"
    assert url_refusal("https://api.pitchey.com/health") is None
    assert url_refusal("http://[bad/") == "the URL is malformed"
    assert allowed_by(Env({"MONITORING_ALLOW_PRIVATE_TARGETS": "true"}))
    assert not allowed_by(Env({"MONITORING_ALLOW_PRIVATE_TARGETS": "false"}))
    assert not allowed_by(Env({}))
