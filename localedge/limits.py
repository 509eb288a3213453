"""Cloudflare's production limits and error messages, in one place.

Values from developers.cloudflare.com (KV, R2 and Durable Objects limits pages) and the
constants miniflare enforces; messages follow the wording Workers see on Cloudflare.
"""

from __future__ import annotations

MiB = 1024 * 1024

# --- Workers KV -------------------------------------------------------------------------------
KV_MAX_KEY_BYTES = 512
KV_MAX_VALUE_BYTES = 25 * MiB
KV_MAX_METADATA_BYTES = 1024
KV_MIN_TTL_SECONDS = 60
KV_MAX_LIST_KEYS = 1000
KV_MAX_BULK_GET_KEYS = 100


def kv_key_too_long(op: str, length: int) -> str:
    return (
        f"KV {op} failed: 414 UTF-8 encoded length of {length} exceeds key length limit "
        f"of {KV_MAX_KEY_BYTES}."
    )


def kv_key_illegal(op: str, key: str) -> str:
    if key == "":
        return f"KV {op} failed: 400 Invalid key name: keys must not be empty."
    return f'KV {op} failed: 400 Illegal key name "{key}". Please use a different name.'


def kv_value_too_large(length: int) -> str:
    return f"KV PUT failed: 413 Value length of {length} exceeds limit of {KV_MAX_VALUE_BYTES}."


def kv_metadata_too_large(length: int) -> str:
    return (
        f"KV PUT failed: 413 Metadata length of {length} exceeds limit of {KV_MAX_METADATA_BYTES}."
    )


def kv_ttl_too_small(ttl: object) -> str:
    return (
        f"KV PUT failed: 400 Invalid expiration_ttl of {ttl}. "
        f"Expiration TTL must be at least {KV_MIN_TTL_SECONDS}."
    )


def kv_expiration_too_soon(expiration: object) -> str:
    return (
        f"KV PUT failed: 400 Invalid expiration of {expiration}. "
        f"Expiration times must be at least {KV_MIN_TTL_SECONDS} seconds in the future."
    )


def kv_list_limit_invalid(limit: object) -> str:
    return (
        f"KV GET failed: 400 Invalid key_count_limit of {limit}. Please specify an integer "
        f"greater than 0 and at most {KV_MAX_LIST_KEYS}."
    )


def kv_cache_ttl_invalid(ttl: object) -> str:
    return (
        f"KV GET failed: 400 Invalid cache_ttl of {ttl}. "
        f"Cache TTL must be at least {KV_MIN_TTL_SECONDS}."
    )


KV_BAD_TYPE = (
    'KV GET failed: 400 Unknown response type. Possible types are "text", "arrayBuffer", '
    '"json", and "stream".'
)
KV_BAD_CURSOR = "KV GET failed: 400 Invalid cursor."

# --- R2 ---------------------------------------------------------------------------------------
R2_MAX_KEY_BYTES = 1024
R2_MAX_METADATA_BYTES = 8192
R2_MAX_PUT_BYTES = 5 * 1024 * MiB - 5 * MiB  # 4.995 GiB in one put
R2_MAX_LIST_KEYS = 1000
R2_MAX_DELETE_KEYS = 1000

R2_INVALID_KEY = "{op}: The specified object name is not valid. (10020)"
R2_METADATA_TOO_LARGE = (
    "{op}: Your metadata headers exceed the maximum allowed metadata size. (10012)"
)
R2_ENTITY_TOO_LARGE = "{op}: Your proposed upload exceeds the maximum allowed object size. (100100)"
R2_INVALID_RANGE = "get: The requested range is not satisfiable (10039)"
R2_INVALID_LIMIT = "list: MaxKeys params must be positive integer <= 1000. (10022)"
R2_TOO_MANY_DELETES = "delete: You can only delete up to 1000 objects at a time. (10037)"

# --- Durable Objects --------------------------------------------------------------------------
DO_MAX_STORAGE_BYTES = 10 * 1024 * MiB  # 10 GB per SQLite-backed object
DO_MAX_KEY_BYTES = 2048
DO_MAX_VALUE_BYTES = 2 * MiB  # SQLite-backed objects: key + value, row, string or BLOB
DO_MAX_BATCH_KEYS = 128
DO_MAX_SQL_PARAMS = 100
DO_MAX_SQL_STATEMENT_BYTES = 100 * 1024
DO_MAX_SQL_COLUMNS = 100
DO_MAX_LIKE_PATTERN_BYTES = 50
DO_ALARM_MAX_RETRIES = 6

DO_KEY_TOO_LONG = "Keys cannot be larger than 2048 bytes. (key length: {length})"
DO_VALUE_TOO_LARGE = (
    "Values cannot be larger than 2097152 bytes. A value of size {length} was provided."
)
DO_TOO_MANY_KEYS = "Maximum number of keys per batch is 128."
DO_SQL_TOO_MANY_PARAMS = "too many SQL variables: SQLITE_ERROR"
DO_SQL_STATEMENT_TOO_LONG = "statement too long: SQLITE_TOOBIG"
DO_SQL_TOO_BIG = "string or blob too big: SQLITE_TOOBIG"
DO_SQL_FORBIDDEN = "not authorized: SQLITE_AUTH"
