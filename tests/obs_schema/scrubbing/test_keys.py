"""Keys are judged by their words: secrets and PII keys are found, descriptive keys are not."""

from __future__ import annotations

import pytest

from obs_schema.scrubbing.keys import CARD, PHONE, SECRET, SSN, KeyPolicy, words


def test_keys_split_into_words_across_conventions() -> None:
    assert words("X-Api-Key") == ["x", "api", "key"]
    assert words("userPassword") == ["user", "password"]
    assert words("AWS_SECRET_ACCESS_KEY") == ["aws", "secret", "access", "key"]
    assert words("HTTPHeaders.set-cookie") == ["http", "headers", "set", "cookie"]


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("password", SECRET),
        ("userPassword", SECRET),
        ("X-Api-Key", SECRET),
        ("apikey", SECRET),
        ("access_token", SECRET),
        ("Authorization", SECRET),
        ("Set-Cookie", SECRET),
        ("client_secret", SECRET),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("privateKey", SECRET),
        ("session_id", SECRET),
        ("SENTRY_DSN", SECRET),
        ("pin", SECRET),
        ("phone", PHONE),
        ("mobileNumber", PHONE),
        ("ssn", SSN),
        ("card_number", CARD),
        ("author", None),
        ("max_tokens", None),
        ("token_count", None),
        ("auth_method", None),
        ("password_policy", None),
        ("token_type", None),
        ("cache_key", None),
        ("key", None),
        ("session_duration", None),
        ("card_brand", None),
        ("", None),
    ],
)
def test_keys_are_classified(key: str, kind: str | None) -> None:
    assert KeyPolicy().classify(key) == kind


def test_a_deployment_allows_and_adds_keys_in_any_spelling() -> None:
    policy = KeyPolicy(allow=["passwordHint"], sensitive=["x-pitchey-session", "nonce"])
    assert policy.classify("password_hint") is None
    assert policy.classify("X-Pitchey-Session") == SECRET
    assert policy.classify("nonce") == SECRET
