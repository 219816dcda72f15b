"""SigV4 against a live server: good keys in, every kind of bad signature out, as AWS answers."""

from __future__ import annotations

import re

import pytest
from auth_support import (
    ACCOUNT_A,
    ACCOUNT_T,
    KEY_A,
    KEY_A2,
    KEY_B,
    KEY_T,
    Key,
    client_for,
    presigned,
    send,
    signed,
    signing_clock,
    unsigned_client,
)
from support import ROLE, error_of, raw_call

# Signature checks come before any database: one backend is enough.
pytestmark = pytest.mark.backends("sqlite")

LIST = "SageMaker.ListImages"
CREATE = "SageMaker.CreateImage"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED = re.compile(
    r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) "
    r"\((\d{8}T\d{6}Z) - 5 min\.\)"
)


def test_boto3_with_a_good_key_works_and_its_account_is_in_every_arn(auth_server, region):
    sm = client_for(auth_server, KEY_A, region)
    arn = sm.create_image(ImageName="signed", RoleArn=ROLE)["ImageArn"]
    assert arn == f"arn:aws:sagemaker:{region}:{ACCOUNT_A}:image/signed"
    assert sm.describe_image(ImageName="signed")["ImageArn"] == arn
    # Several keys may belong to one account: they see the same catalog.
    other_key = client_for(auth_server, KEY_A2, region)
    assert [i["ImageName"] for i in other_key.list_images()["Images"]] == ["signed"]


def test_a_wrong_secret_is_an_invalid_signature(auth_server, region):
    sm = client_for(auth_server, KEY_A, region, secret="not-the-secret")
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.create_image(ImageName="never", RoleArn=ROLE)
    assert error_of(excinfo) == ("InvalidSignatureException", MISMATCH, 400)
    good = client_for(auth_server, KEY_A, region)
    assert good.list_images()["Images"] == []  # nothing was written


def test_an_unknown_key_is_unrecognized(auth_server, region):
    stranger = Key("AKIDUNKNOWN000000001", KEY_A.secret_access_key, ACCOUNT_A)
    sm = client_for(auth_server, stranger, region)
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_images()
    assert error_of(excinfo) == ("UnrecognizedClientException", INVALID_TOKEN, 400)


def test_an_unsigned_request_misses_its_token(auth_server, region):
    sm = unsigned_client(auth_server, region)
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_images()
    assert error_of(excinfo) == ("MissingAuthenticationToken", "Missing Authentication Token", 403)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKIDACCOUNTA00000001/20261126/us-east-1/sagemaker/aws4_request",
            "Authorization header requires 'Signature' parameter. "
            "Authorization header requires 'SignedHeaders' parameter. "
            "Authorization=AWS4-HMAC-SHA256 Credential=AKIDACCOUNTA00000001/20261126/us-east-1/sagemaker/aws4_request",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDACCOUNTA00000001 /20261126/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=00",
            "'/20261126/us-east-1/sagemaker/aws4_request' not a valid key=value pair "
            "(missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 "
            "Credential=AKIDACCOUNTA00000001 /20261126/us-east-1/sagemaker/aws4_request, "
            "SignedHeaders=host, Signature=00'.",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDACCOUNTA00000001/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=00",
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/term, got 'AKIDACCOUNTA00000001/us-east-1/sagemaker/aws4_request'",
        ),
    ],
)
def test_a_malformed_authorization_header_is_an_incomplete_signature(
    auth_server, authorization, message
):
    status, _, body = raw_call(
        auth_server,
        LIST,
        {},
        headers={"Authorization": authorization, "X-Amz-Date": "20261126T000000Z"},
    )
    assert (status, body) == (400, {"__type": "IncompleteSignature", "message": message})


def test_a_request_without_a_date_is_an_incomplete_signature(auth_server, region):
    request = signed(auth_server.endpoint, KEY_A, region, LIST)
    del request.headers["X-Amz-Date"]
    status, body = send(request)
    assert status == 400
    assert body["__type"] == "IncompleteSignature"
    assert body["message"].startswith(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def test_a_request_replayed_after_five_minutes_is_refused(auth_server, region):
    sm = client_for(auth_server, KEY_A, region)
    with signing_clock(-6 * 60), pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_images()
    code, message, status = error_of(excinfo)
    assert (code, status) == ("InvalidSignatureException", 400)
    match = EXPIRED.fullmatch(message)
    assert match, message
    signed_at, earliest, now = match.groups()
    assert signed_at < earliest < now
    # The same request kept for six minutes, then sent again, is refused the same way.
    with signing_clock(-6 * 60):
        old = signed(auth_server.endpoint, KEY_A, region, LIST)
    status, body = send(old)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert EXPIRED.fullmatch(body["message"])
    # Within the window a skewed clock is fine.
    with signing_clock(-4 * 60):
        assert sm.list_images()["Images"] == []


def test_a_date_too_far_ahead_is_not_yet_current(auth_server, region):
    sm = client_for(auth_server, KEY_A, region)
    with signing_clock(6 * 60), pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_images()
    code, message, status = error_of(excinfo)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert re.fullmatch(
        r"Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z "
        r"\(\d{8}T\d{6}Z \+ 5 min\.\)",
        message,
    )


def test_a_body_changed_after_signing_is_refused(auth_server, region):
    body = {"ImageName": "original", "RoleArn": ROLE}
    request = signed(auth_server.endpoint, KEY_A, region, CREATE, body)
    tampered = request.body.replace(b"original", b"tampered")  # same length, other bytes
    status, answer = send(request, body=tampered)
    assert (status, answer) == (400, {"__type": "InvalidSignatureException", "message": MISMATCH})
    sm = client_for(auth_server, KEY_A, region)
    assert sm.list_images()["Images"] == []
    status, answer = send(request)  # the body it was signed with passes
    assert status == 200, answer
    assert answer["ImageArn"].endswith(":image/original")


def test_the_signature_covers_exactly_the_headers_the_client_signed(auth_server, region):
    # What Terraform's Go SDK signs besides the usual: these must be in the canonical request.
    terraform_like = [
        ("amz-sdk-invocation-id", "4a2c3b5e-0f1d-4c1b-9c55-0f6f7d6d3a11"),
        ("amz-sdk-request", "attempt=1; max=25"),
        ("Content-Length", "2"),
        ("User-Agent", "APN/1.0 HashiCorp/1.0 Terraform/1.11.4"),
    ]
    request = signed(auth_server.endpoint, KEY_A, region, LIST, headers=terraform_like)
    assert "amz-sdk-request" in request.headers["Authorization"]
    status, body = send(request, extra_headers=[("X-Unsigned-Extra", "ignored")])
    assert (status, body) == (200, {"Images": []})
    changed = signed(auth_server.endpoint, KEY_A, region, LIST, headers=terraform_like)
    changed.headers.replace_header("amz-sdk-request", "attempt=2; max=25")
    status, body = send(changed)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_canonical_form_matches_botocore_for_awkward_headers_and_queries(auth_server, region):
    awkward = [
        ("X-Amz-Meta-Spaces", "  leading   and trailing   "),
        ("X-Amz-Meta-Repeated", "first"),
        ("X-Amz-Meta-Repeated", "second  value"),
        ("X-Amz-Meta-Case", "MiXeD"),
    ]
    query = "z=last&a=b%20c&a=a&empty=&tilde=~x&slash=%2F"
    request = signed(auth_server.endpoint, KEY_A, region, LIST, headers=awkward, query=query)
    status, body = send(request)
    assert (status, body) == (200, {"Images": []})
    # Any change to the query changes the canonical request.
    status, body = send(request, url=request.url.replace("z=last", "z=other"))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_the_credential_scope_must_name_sagemaker(auth_server, region):
    request = signed(auth_server.endpoint, KEY_A, region, LIST, service="s3")
    status, body = send(request)
    assert (status, body) == (
        400,
        {
            "__type": "InvalidSignatureException",
            "message": "Credential should be scoped to correct service: 'sagemaker'. ",
        },
    )


def test_the_region_of_the_scope_is_the_region_of_the_request(auth_server):
    sm = client_for(auth_server, KEY_A, "eu-test-7")
    arn = sm.create_image(ImageName="regional", RoleArn=ROLE)["ImageArn"]
    assert arn == f"arn:aws:sagemaker:eu-test-7:{ACCOUNT_A}:image/regional"
    assert client_for(auth_server, KEY_A, "eu-test-8").list_images()["Images"] == []


def test_session_tokens_are_required_when_listed_and_refused_when_not(auth_server, region):
    with_token = client_for(auth_server, KEY_T, region, token=KEY_T.session_token)
    arn = with_token.create_image(ImageName="temporary", RoleArn=ROLE)["ImageArn"]
    assert f":{ACCOUNT_T}:image/temporary" in arn
    for token in (None, "token-of-someone-else"):
        sm = client_for(auth_server, KEY_T, region, token=token)
        with pytest.raises(sm.exceptions.ClientError) as excinfo:
            sm.list_images()
        assert error_of(excinfo) == ("UnrecognizedClientException", INVALID_TOKEN, 400)
    # A key listed without a token does not take one.
    sm = client_for(auth_server, KEY_B, region, token="made-up")
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_images()
    assert error_of(excinfo) == ("UnrecognizedClientException", INVALID_TOKEN, 400)


def test_query_string_presigning(auth_server, region):
    client_for(auth_server, KEY_B, region).create_image(ImageName="seen", RoleArn=ROLE)
    request = presigned(auth_server.endpoint, KEY_B, region, LIST)
    assert "X-Amz-Signature=" in request.url and "Authorization" not in request.headers
    status, body = send(request)
    assert status == 200, body
    assert [i["ImageName"] for i in body["Images"]] == ["seen"]
    # A body the signature did not cover, a changed query, an unknown key: refused.
    status, body = send(request, body=b'{"MaxResults": 1}')
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    status, body = send(request, url=request.url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    stranger = Key("AKIDUNKNOWN000000002", "x", ACCOUNT_A)
    status, body = send(presigned(auth_server.endpoint, stranger, region, LIST))
    assert (status, body["__type"]) == (400, "UnrecognizedClientException")


def test_an_expired_presigned_request_is_refused(auth_server, region):
    with signing_clock(-120):
        request = presigned(auth_server.endpoint, KEY_A, region, LIST, expires=60)
    status, body = send(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: ")
    incomplete = request.url.replace("X-Amz-Expires=60&", "")
    status, body = send(request, url=incomplete)
    assert (status, body["__type"]) == (400, "IncompleteSignature")


def test_health_needs_no_signature(auth_server):
    status, _, body = raw_call(auth_server, None, b"", method="GET", path="/healthz")
    assert (status, body) == (200, {"status": "ok"})


def test_a_date_header_may_stand_in_for_x_amz_date(auth_server, region):
    # botocore signs with the Date header instead of X-Amz-Date when the request has one.
    request = signed(
        auth_server.endpoint,
        KEY_A,
        region,
        LIST,
        headers=[("Date", "Thu, 01 Jan 2026 00:00:00 GMT")],
    )
    assert "X-Amz-Date" not in request.headers
    status, body = send(request)
    assert (status, body) == (200, {"Images": []})


def test_a_malformed_date_is_an_incomplete_signature(auth_server, region):
    request = signed(auth_server.endpoint, KEY_A, region, LIST)
    request.headers.replace_header("X-Amz-Date", "2026-11-26T00:00:00Z")
    status, body = send(request)
    assert (status, body) == (
        400,
        {
            "__type": "IncompleteSignature",
            "message": "Date must be in ISO-8601 'basic format'. Got '2026-11-26T00:00:00Z'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        },
    )


def test_odd_bytes_in_a_presigned_signature_are_refused_not_a_crash(auth_server, region):
    request = presigned(auth_server.endpoint, KEY_A, region, LIST)
    url = re.sub(r"X-Amz-Signature=[0-9a-f]+", "X-Amz-Signature=%E2%82%AC%00", request.url)
    status, body = send(request, url=url)
    assert (status, body) == (400, {"__type": "InvalidSignatureException", "message": MISMATCH})


@pytest.mark.parametrize(
    ("pattern", "replacement", "code"),
    [
        # A digit to Python, not to AWS: the expiry is malformed.
        (r"X-Amz-Expires=\d+", "X-Amz-Expires=%C2%B2", "IncompleteSignature"),
        # A header name no request can carry: signed as absent, so the signature differs.
        (
            r"X-Amz-SignedHeaders=[^&]+",
            "X-Amz-SignedHeaders=host%3B%E2%82%AC",
            "InvalidSignatureException",
        ),
    ],
)
def test_odd_presigned_parameters_are_refused_not_a_crash(
    auth_server, region, pattern, replacement, code
):
    request = presigned(auth_server.endpoint, KEY_A, region, LIST)
    status, body = send(request, url=re.sub(pattern, replacement, request.url))
    assert (status, body["__type"]) == (400, code)
