"""The SigV4 verifier, against botocore's signer (the reference), with its clock held still."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sagemaker_images.auth.credentials import AccessKey
from sagemaker_images.auth.sigv4 import Verifier, credential_scope
from sagemaker_images.errors import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
)

NOW = datetime.datetime(2026, 11, 30, 12, 0, 0)
KEYS = {
    "AKIDTEST": AccessKey("AKIDTEST", "111111111111", "secret/+key"),
    "ASIDTEMP": AccessKey("ASIDTEMP", "222222222222", "temp-secret", session_token="tok"),
}


def verifier(offset_seconds: float = 0) -> Verifier:
    clock = (NOW - datetime.datetime(1970, 1, 1)).total_seconds() + offset_seconds
    return Verifier(KEYS.get, clock=lambda: clock)


def signed(
    key: str = "AKIDTEST",
    secret: str = "secret/+key",
    *,
    region: str = "eu-west-1",
    service: str = "sagemaker",
    token: str | None = None,
    body: bytes = b'{"MaxResults": 5}',
    query: str = "",
    headers: dict[str, str] | None = None,
) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=f"https://api.sagemaker.example/{'?' + query if query else ''}",
        data=body,
    )
    request.headers["Host"] = "api.sagemaker.example"
    request.headers["X-Amz-Target"] = "SageMaker.ListImages"
    for name, value in (headers or {}).items():
        request.headers[name] = value
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    return request


def verify(request: AWSRequest, body: bytes | None = None, offset: float = 0):
    raw_path, _, query = request.url.removeprefix("https://api.sagemaker.example").partition("?")
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    body = (request.body or b"") if body is None else body
    return verifier(offset).verify(
        "POST",
        raw_path.encode() or b"/",
        query.encode(),
        headers,
        body,
    )


def test_a_good_signature_names_the_caller():
    caller = verify(signed())
    assert (caller.access_key_id, caller.account, caller.region) == (
        "AKIDTEST",
        "111111111111",
        "eu-west-1",
    )


def test_signed_headers_and_queries_of_any_shape_verify():
    request = signed(
        query="z=1&a=b%20c&a=a&empty=",
        headers={"X-Amz-Meta-Spaces": "  two   spaces ", "amz-sdk-request": "attempt=1; max=3"},
    )
    assert verify(request).account == "111111111111"


@pytest.mark.parametrize(
    ("request_of", "body", "error"),
    [
        (lambda: signed(secret="wrong"), None, InvalidSignature),
        (lambda: signed(), b'{"MaxResults": 6}', InvalidSignature),
        (lambda: signed(service="s3"), None, InvalidSignature),
        (lambda: signed(key="AKIDUNKNOWN"), None, UnrecognizedClient),
        (lambda: signed(key="ASIDTEMP", secret="temp-secret"), None, UnrecognizedClient),
        (
            lambda: signed(key="ASIDTEMP", secret="temp-secret", token="other"),
            None,
            UnrecognizedClient,
        ),
        (lambda: signed(token="unexpected"), None, UnrecognizedClient),
    ],
)
def test_refusals(request_of, body, error):
    with pytest.raises(error):
        verify(request_of(), body)


def test_a_session_token_listed_with_a_key_is_required_and_accepted():
    assert (
        verify(signed(key="ASIDTEMP", secret="temp-secret", token="tok")).account == "222222222222"
    )


def test_the_clock_allows_five_minutes_either_way():
    request = signed()
    verify(request, offset=299)
    verify(request, offset=-299)
    with pytest.raises(InvalidSignature, match=r"^Signature expired: 20261130T120000Z"):
        verify(request, offset=301)
    with pytest.raises(InvalidSignature, match=r"^Signature not yet current: "):
        verify(request, offset=-301)


def test_unsigned_and_malformed_requests():
    v = verifier()
    with pytest.raises(MissingAuthenticationToken):
        v.verify("POST", b"/", b"", [(b"host", b"h")], b"")
    with pytest.raises(IncompleteSignature, match="requires 'Signature' parameter"):
        v.verify(
            "POST",
            b"/",
            b"",
            [
                (
                    b"authorization",
                    b"AWS4-HMAC-SHA256 Credential=AKIDTEST/20261130/r/sagemaker/aws4_request",
                ),
                (b"x-amz-date", b"20261130T120000Z"),
            ],
            b"",
        )


def test_presigned_requests_verify_until_they_expire():
    request = AWSRequest(method="POST", url="https://api.sagemaker.example/", data=b"")
    request.headers["Host"] = "api.sagemaker.example"
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        SigV4QueryAuth(
            Credentials("AKIDTEST", "secret/+key"), "sagemaker", "ap-south-1", expires=60
        ).add_auth(request)
    assert verify(request, offset=59).region == "ap-south-1"
    with pytest.raises(InvalidSignature, match=r"^Signature expired"):
        verify(request, offset=61)


def test_the_key_and_region_of_an_unverified_request():
    header = (
        "AWS4-HMAC-SHA256 Credential=K/20261130/eu-north-1/sagemaker/aws4_request,"
        " SignedHeaders=host, Signature=0"
    )
    assert credential_scope(header) == ("K", "eu-north-1")
    query = b"X-Amz-Credential=K%2F20261130%2Fap-east-1%2Fsagemaker%2Faws4_request"
    assert credential_scope(None, query) == ("K", "ap-east-1")
    assert credential_scope("Bearer x") == (None, None)
    assert credential_scope("AWS4-HMAC-SHA256 Credential=K/short") == ("K", None)
