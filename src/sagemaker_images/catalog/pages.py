"""Opaque NextToken values for keyset pagination.

A token carries the sort key of the last row of its page and a digest of the request it
belongs to (operation, account, region and every filter and sort member), so it cannot be
replayed against another listing, nor in another account or region. Its content is
validated strictly on the way back in: anything else is AWS's `Invalid pagination token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

import orjson

from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ValidationError
from sagemaker_images.resources.records import column_types
from sagemaker_images.store import PageRequest

_FORMAT = 1
_NOT_PART_OF_QUERY = frozenset({"NextToken", "MaxResults"})


def query_digest(operation: str, ctx: RequestContext, request: Mapping[str, Any]) -> str:
    query = {k: v for k, v in request.items() if k not in _NOT_PART_OF_QUERY}
    raw = orjson.dumps([operation, ctx.account, ctx.region, query], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=9).hexdigest()


def encode(digest: str, key: Sequence[Any]) -> str:
    raw = orjson.dumps([_FORMAT, digest, list(key)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, digest: str, types: Sequence[type]) -> tuple[Any, ...]:
    """The sort key a token carries, checked against the request and the expected types."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fmt, token_digest, key = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise invalid_token() from None
    if fmt != _FORMAT or token_digest != digest or not isinstance(key, list):
        raise invalid_token()
    if len(key) != len(types) or not all(
        isinstance(value, kind)
        and not isinstance(value, bool)
        and not (isinstance(value, str) and "\x00" in value)
        and not (isinstance(value, int) and not -(2**63) <= value < 2**63)
        for value, kind in zip(key, types, strict=True)
    ):
        raise invalid_token()
    return tuple(key)


def invalid_token() -> ValidationError:
    return ValidationError("Invalid pagination token")


@dataclass(frozen=True, slots=True)
class SortKey:
    """A SortBy value's keyset: the columns (ties broken by a unique one, in the same
    direction), the types a NextToken must carry, and the key of a listed row."""

    columns: tuple[str, ...]
    types: tuple[type, ...]
    key_of: Callable[[Any], tuple[Any, ...]]


def record_key(record_type: type, *columns: str) -> SortKey:
    """The key of listed records (rows read whole), by their declared columns."""
    get = attrgetter(*columns)
    key_of = get if len(columns) > 1 else (lambda record: (get(record),))
    return SortKey(columns, column_types(record_type, columns), key_of)


def row_key(record_type: type, row_columns: Sequence[str], *columns: str) -> SortKey:
    """The key of listed rows that are tuples of `row_columns`."""
    get = itemgetter(*(row_columns.index(column) for column in columns))
    key_of = get if len(columns) > 1 else (lambda row: (get(row),))
    return SortKey(columns, column_types(record_type, columns), key_of)


def named_sort_keys(
    record_type: type, created: str, modified: str, name: str
) -> dict[str, SortKey]:
    """The sort keys of a listing of named resources, under the enum spellings it uses."""
    return {
        created: record_key(record_type, "created_ms", "name_key"),
        modified: record_key(record_type, "modified_ms", "name_key"),
        name: record_key(record_type, "name_key"),
    }


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a sorted listing: what to ask the store, and how to token its end."""

    page: PageRequest
    digest: str
    key_of: Callable[[Any], Sequence[Any]]

    @property
    def limit(self) -> int:
        return self.page.limit - 1

    def next_token(self, rows: Sequence[Any]) -> str | None:
        return next_token(self.digest, rows, self.limit, self.key_of)


def sorted_listing(
    operation: str,
    ctx: RequestContext,
    request: Mapping[str, Any],
    sort_keys: Mapping[str, SortKey],
    *,
    default_sort: str,
    descending: str,
    page_size: int,
    default_order: str | None = None,
) -> Listing:
    """The page a List call asks for; the store is asked one row more to tell if more remain.

    `descending` is the spelling of the descending SortOrder, and the default order unless
    `default_order` names another.
    """
    key = sort_keys[request.get("SortBy", default_sort)]
    digest, after = position(operation, ctx, request, key.types)
    is_descending = request.get("SortOrder", default_order or descending) == descending
    limit = request.get("MaxResults", page_size)
    return Listing(PageRequest(key.columns, is_descending, after, limit + 1), digest, key.key_of)


def position(
    operation: str, ctx: RequestContext, request: Mapping[str, Any], types: Sequence[type]
) -> tuple[str, tuple[Any, ...] | None]:
    """A listing's digest, and the key its NextToken resumes after (None on the first page)."""
    digest = query_digest(operation, ctx, request)
    token = request.get("NextToken")
    return digest, (decode(token, digest, types) if token else None)


def next_token(
    digest: str, rows: Sequence[Any], limit: int, key_of: Callable[[Any], Sequence[Any]]
) -> str | None:
    """The token of the page after `rows[:limit]`, if the query found more (it asks limit+1)."""
    return encode(digest, key_of(rows[limit - 1])) if len(rows) > limit else None
