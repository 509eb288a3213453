"""Which keys hold secrets or personal data, by name: `password`, `apiKey`, `x-auth-token`...

A key is split into words (snake_case, kebab-case, dotted, camelCase) and judged on them, so
`author`, `max_tokens` and `token_count` stay readable while `access_token`, `X-Api-Key` and
`userPassword` are scrubbed. A trailing word that describes the secret rather than holding it
(`password_policy`, `token_type`, `auth_method`) makes the key benign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SECRET = "secret"  # noqa: S105 - a class name, not a password
PHONE = "phone"
SSN = "ssn"
CARD = "card"

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# One word that on its own makes a key secret.
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "pass", "passphrase", "passcode", "secret", "secrets",
        "token", "auth", "authorization", "authentication", "cookie", "cookies", "session",
        "sessionid", "credential", "credentials", "apikey", "jwt", "bearer", "otp", "pin",
        "cvv", "cvv2", "cvc", "privatekey", "secretkey", "accesskey", "dsn",
    }
)  # fmt: skip
# Word sequences (joined) that make a key secret although no single word does.
_SECRET_JOINED = (
    "apikey", "accesskey", "privatekey", "secretkey", "signingkey", "encryptionkey",
    "masterkey", "clientkey", "licensekey", "setcookie", "sessionkey", "connectionstring",
)  # fmt: skip
# Keys whose value is personal data of a known class (scrubbed as that class).
_PII_WORDS = {
    "phone": PHONE, "telephone": PHONE, "mobile": PHONE, "msisdn": PHONE, "fax": PHONE,
    "tel": PHONE, "cell": PHONE, "ssn": SSN, "card": CARD, "pan": CARD,
}  # fmt: skip
_PII_JOINED = {
    "phonenumber": PHONE, "socialsecurity": SSN, "creditcard": CARD, "cardnumber": CARD,
    "ccnumber": CARD,
}  # fmt: skip
# Last words that describe a secret instead of holding it.
_DESCRIPTIVE = frozenset(
    {
        "count", "counts", "type", "types", "len", "length", "size", "expiry", "expires",
        "expiration", "exp", "ttl", "url", "uri", "endpoint", "path", "policy", "required",
        "enabled", "disabled", "valid", "version", "format", "method", "methods", "kind",
        "hint", "algorithm", "alg", "scheme", "mode", "strength", "age", "at", "name",
        "provider", "status", "result", "error", "errors", "attempts", "reason", "source",
        "header", "field", "param", "limit", "used", "usage", "budget", "present", "set",
        "changed", "issuer", "audience", "scope", "scopes", "timeout", "rotated", "last4",
        "brand", "country", "verified", "ms", "seconds", "duration", "start", "started",
        "end", "ended", "created", "updated", "state", "active", "timestamp", "time",
    }
)  # fmt: skip


def words(key: str) -> list[str]:
    """`X-Api-Key` -> ["x", "api", "key"]; `userPassword` -> ["user", "password"]."""
    return [word.lower() for word in _WORD.findall(key)]


def normalise(key: str) -> str:
    return "".join(words(key))


class KeyPolicy:
    """Classifies keys: None (ordinary), `secret`, or a PII class (`phone`, `ssn`, `card`)."""

    def __init__(self, allow: Iterable[str] = (), sensitive: Iterable[str] = ()) -> None:
        self._allow = frozenset(normalise(key) for key in allow)
        self._sensitive = frozenset(normalise(key) for key in sensitive)
        self._cache: dict[str, str | None] = {}

    def classify(self, key: str) -> str | None:
        found = self._cache.get(key, "?")
        if found != "?":
            return found
        result = self._classify(key)
        if len(self._cache) < 4096:  # keys repeat endlessly in logs; values do not
            self._cache[key] = result
        return result

    def _classify(self, key: str) -> str | None:
        parts = words(key)
        joined = "".join(parts)
        if not parts or joined in self._allow:
            return None
        if joined in self._sensitive:
            return SECRET
        if parts[-1] in _DESCRIPTIVE and len(parts) > 1:
            return None
        if any(part in _SECRET_WORDS for part in parts) or any(s in joined for s in _SECRET_JOINED):
            return SECRET
        for part in parts:
            if part in _PII_WORDS:
                return _PII_WORDS[part]
        return next((kind for name, kind in _PII_JOINED.items() if name in joined), None)
