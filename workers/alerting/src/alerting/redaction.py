"""Secret settings in the configuration document: shown redacted, restored when sent back.

Literal secrets (a Slack webhook URL, a routing key) live only inside the Durable Object; the
API shows `<redacted>` in their place, and a document read back and sent again unchanged keeps
the stored values (matched by receiver name, channel kind, index and field).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from alerting.channels import CHANNELS
from alerting.channels.base import REDACTED, SecretRef, redact

_PROVIDER_SECRETS = {"email": ("api_key",), "sms": ("auth_token",)}


def _as_secret(value: object) -> object:
    if isinstance(value, Mapping) and set(value) == {"secret"}:
        return SecretRef(str(value["secret"]))
    return value


SecretSpot = tuple[tuple[str, ...], dict[str, Any], str]


def _secret_spots(data: Mapping[str, Any]) -> list[SecretSpot]:
    """Every secret setting: (where, its container, its key). `where` names it stably:
    (receiver name, kind, index, field) or ("global", provider, "", field)."""
    spots: list[SecretSpot] = []
    receivers = data.get("receivers")
    for receiver in receivers if isinstance(receivers, list) else []:
        if not isinstance(receiver, dict):
            continue
        for kind, channel in CHANNELS.items():
            configs = receiver.get(f"{kind}_configs")
            for i, section in enumerate(configs if isinstance(configs, list) else []):
                if isinstance(section, dict):
                    where = (str(receiver.get("name")), kind, str(i))
                    spots += [
                        ((*where, k), section, k) for k in channel.secret_fields if k in section
                    ]
    section = data.get("global")
    if isinstance(section, dict):
        for provider, keys in _PROVIDER_SECRETS.items():
            block = section.get(provider)
            if isinstance(block, dict):
                spots += [(("global", provider, "", k), block, k) for k in keys if k in block]
    return spots


def redacted(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the document as the API shows it: literal secrets replaced by `<redacted>`."""
    data = copy.deepcopy(dict(document))
    for _, container, key in _secret_spots(data):
        container[key] = redact(_as_secret(container[key]))
    return data


def restore(data: dict[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """`<redacted>` values take the stored literal at the same place (same receiver name)."""
    old = {where: container[key] for where, container, key in _secret_spots(previous)}
    for where, container, key in _secret_spots(data):
        if container[key] == REDACTED and where in old:
            container[key] = old[where]
    return data
