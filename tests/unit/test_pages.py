"""NextToken values: opaque, bound to their listing, account and region, checked strictly."""

from __future__ import annotations

import base64
import json

import pytest

from sagemaker_images.catalog import pages
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ValidationError
from sagemaker_images.resources.records import ImageRecord, VersionRecord

CTX = RequestContext("111111111111", "us-east-1", "request")
REQUEST = {"SortBy": "IMAGE_NAME", "NameContains": "ab", "MaxResults": 5}


def digest(ctx: RequestContext = CTX, request: dict | None = None, operation="ListImages") -> str:
    return pages.query_digest(operation, ctx, REQUEST if request is None else request)


def test_a_token_carries_its_key_back():
    token = pages.encode(digest(), (1700000000000, "name"))
    assert pages.decode(token, digest(), (int, str)) == (1700000000000, "name")
    assert "=" not in token


def test_page_size_and_token_are_not_part_of_the_query():
    same = {**REQUEST, "MaxResults": 100, "NextToken": "x"}
    assert digest(request=same) == digest()


@pytest.mark.parametrize(
    "other",
    [
        digest(RequestContext("222222222222", "us-east-1", "r")),
        digest(RequestContext("111111111111", "eu-west-1", "r")),
        digest(request={**REQUEST, "NameContains": "abc"}),
        digest(request={**REQUEST, "SortOrder": "ASCENDING"}),
        digest(operation="ListAppImageConfigs"),
    ],
)
def test_a_token_is_refused_by_any_other_listing_account_or_region(other):
    token = pages.encode(digest(), ("name",))
    with pytest.raises(ValidationError, match=r"^Invalid pagination token$"):
        pages.decode(token, other, (str,))


def _forged(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        _forged("a string"),
        _forged([2, digest(), ["name"]]),  # another format
        _forged([1, digest(), "name"]),
        _forged([1, digest(), ["name", "extra"]]),
        _forged([1, digest(), [5]]),  # a number where a name belongs
        _forged([1, digest(), [True]]),
        _forged([1, digest(), ["nul\x00"]]),
        _forged([1, digest(), [2**64]]),
    ],
)
def test_garbled_or_forged_tokens_are_invalid(token):
    with pytest.raises(ValidationError, match=r"^Invalid pagination token$"):
        pages.decode(token, digest(), (str,))


def test_sort_keys_come_from_the_declarations():
    keys = pages.named_sort_keys(ImageRecord, "CREATED", "MODIFIED", "NAME")
    assert keys["CREATED"].columns == ("created_ms", "name_key")
    assert keys["CREATED"].types == (int, str)
    assert keys["NAME"].types == (str,)
    row_key = pages.row_key(
        VersionRecord, ("version", "status", "created_ms"), "created_ms", "version"
    )
    assert row_key.key_of((3, "CREATED", 99)) == (99, 3)
    assert pages.row_key(VersionRecord, ("version",), "version").key_of((7,)) == (7,)


def test_the_next_token_exists_only_when_more_rows_were_found():
    rows = [(1,), (2,), (3,)]
    assert pages.next_token("d", rows, 3, lambda row: row) is None
    token = pages.next_token("d", rows, 2, lambda row: row)
    assert token is not None and pages.decode(token, "d", (int,)) == (2,)
