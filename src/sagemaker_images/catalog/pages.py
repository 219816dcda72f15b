"""Opaque NextToken values for keyset pagination.

A token carries the sort key of the last row of its page and a digest of the request it
belongs to (operation and every filter and sort member), so it cannot be replayed against
another listing. Its content is validated strictly on the way back in: anything else is
AWS's `Invalid pagination token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from sagemaker_images.errors import ValidationError

_FORMAT = 1
_NOT_PART_OF_QUERY = frozenset({"NextToken", "MaxResults"})


def query_digest(operation: str, request: Mapping[str, Any]) -> str:
    query = {k: v for k, v in request.items() if k not in _NOT_PART_OF_QUERY}
    raw = orjson.dumps([operation, query], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=9).hexdigest()


def encode(digest: str, key: Sequence[Any]) -> str:
    raw = orjson.dumps([_FORMAT, digest, list(key)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, digest: str, types: Sequence[type]) -> tuple:
    """The sort key a token carries, checked against the request and the expected types."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fmt, token_digest, key = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise invalid_token() from None
    if fmt != _FORMAT or token_digest != digest or not isinstance(key, list):
        raise invalid_token()
    if len(key) != len(types) or not all(
        isinstance(value, kind) and not isinstance(value, bool)
        for value, kind in zip(key, types, strict=True)
    ):
        raise invalid_token()
    return tuple(key)


def invalid_token() -> ValidationError:
    return ValidationError("Invalid pagination token")


def position(
    operation: str, request: Mapping[str, Any], types: Sequence[type]
) -> tuple[str, tuple | None]:
    """A listing's digest, and the key its NextToken resumes after (None on the first page)."""
    digest = query_digest(operation, request)
    token = request.get("NextToken")
    return digest, (decode(token, digest, types) if token else None)


def next_token(
    digest: str, rows: Sequence[Any], limit: int, key_of: Callable[[Any], Sequence[Any]]
) -> str | None:
    """The token of the page after `rows[:limit]`, if the query found more (it asks limit+1)."""
    return encode(digest, key_of(rows[limit - 1])) if len(rows) > limit else None
