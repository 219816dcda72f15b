"""The AWS JSON 1.1 wire layer, spoken to without an SDK in between."""

from __future__ import annotations

import json

import pytest
from support import ROLE, raw_call

# The wire layer is the same whatever the database: one backend is enough.
pytestmark = pytest.mark.backends("sqlite")

TARGET = "SageMaker.ListImages"


def test_health_endpoint(server):
    status, headers, body = raw_call(server, None, b"", method="GET", path="/healthz")
    assert status == 200
    assert body == {"status": "ok"}
    assert headers["x-amzn-requestid"]


def test_success_has_json_content_type_and_request_id(server, region):
    status, headers, body = raw_call(server, TARGET, {}, region=region)
    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert len(headers["x-amzn-requestid"]) == 36
    assert body == {"Images": []}


def test_every_response_has_a_distinct_request_id(server):
    ids = {raw_call(server, TARGET, {})[1]["x-amzn-requestid"] for _ in range(5)}
    ids.add(raw_call(server, "SageMaker.Nope", {})[1]["x-amzn-requestid"])
    assert len(ids) == 6


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        (None, "Missing X-Amz-Target"),
        ("SageMaker.NoSuchOperation", "SageMaker.NoSuchOperation"),
        ("Other.ListImages", "Other.ListImages"),
        ("SageMaker.CreateTrainingJob", "CreateTrainingJob"),  # real, not served here
    ],
)
def test_unknown_operation(server, target, needle):
    status, headers, body = raw_call(server, target, {})
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert needle in body["message"]
    assert "x-amzn-errortype" not in headers
    assert "code" not in body


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"', b"42", b"\xff\xfe"])
def test_body_that_is_not_a_json_object(server, payload):
    status, _, body = raw_call(server, TARGET, payload)
    assert status == 400
    assert body["__type"] == "SerializationException"
    assert body["message"]


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"MaxResults": "ten"}, "maxResults"),
        ({"MaxResults": 2**40}, "maxResults"),
        ({"SortBy": 5}, "sortBy"),
        ({"CreationTimeAfter": True}, "creationTimeAfter"),
        ({"CreationTimeAfter": "yesterday"}, "creationTimeAfter"),
    ],
)
def test_wrong_member_types(server, payload, where):
    status, _, body = raw_call(server, TARGET, payload)
    assert status == 400
    assert body["__type"] == "SerializationException"
    assert where in body["message"]


def test_wrong_nested_type_writes_nothing(server, region):
    payload = {"ImageName": "typed", "RoleArn": ROLE, "Tags": "not-a-list"}
    status, _, body = raw_call(server, "SageMaker.CreateImage", payload, region=region)
    assert (status, body["__type"]) == (400, "SerializationException")
    _, _, listed = raw_call(server, TARGET, {}, region=region)
    assert listed == {"Images": []}


def test_oversized_body_is_refused(server, region):
    payload = json.dumps({"ImageName": "big", "RoleArn": ROLE, "Description": "x" * (1 << 20)})
    status, headers, body = raw_call(server, "SageMaker.CreateImage", payload, region=region)
    assert status == 413
    assert "exceeds the limit" in body["message"]
    assert headers["x-amzn-requestid"]
    _, _, listed = raw_call(server, TARGET, {}, region=region)
    assert listed == {"Images": []}


def test_empty_body_reads_as_empty_object(server):
    status, _, body = raw_call(server, TARGET, b"")
    assert status == 200
    assert "Images" in body


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("PUT", "/"), ("POST", "/other")])
def test_other_routes_are_client_errors(server, method, path):
    status, _, body = raw_call(server, TARGET, {}, method=method, path=path)
    assert 400 <= status < 500
    assert body["__type"] == "UnknownOperationException"


def test_modelled_errors_use_capital_message(server):
    status, headers, body = raw_call(server, "SageMaker.DescribeImage", {"ImageName": "x"})
    assert status == 400
    assert body["__type"] == "ResourceNotFound"
    assert "does not exist" in body["Message"]
    assert "message" not in body and "code" not in body
    assert headers["x-amzn-requestid"]


def test_framework_errors_use_lower_case_message(server):
    status, _, body = raw_call(server, "SageMaker.DescribeImage", {"ImageName": "-"})
    assert status == 400
    assert body["__type"] == "ValidationException"
    assert body["message"].startswith("1 validation error detected: ")
    assert "Message" not in body


def test_region_comes_from_the_credential_scope(server):
    for region in ("eu-west-3", "ap-south-1"):
        name = f"scoped-{region}"
        _, _, created = raw_call(
            server,
            "SageMaker.CreateImage",
            {"ImageName": name, "RoleArn": ROLE},
            region=region,
        )
        assert created["ImageArn"] == f"arn:aws:sagemaker:{region}:123456789012:image/{name}"


def test_partition_follows_the_region(server):
    _, _, created = raw_call(
        server,
        "SageMaker.CreateImage",
        {"ImageName": "partitioned", "RoleArn": "arn:aws-cn:iam::123456789012:role/r"},
        region="cn-north-1",
    )
    assert created["ImageArn"] == "arn:aws-cn:sagemaker:cn-north-1:123456789012:image/partitioned"


def test_unsigned_request_uses_the_default_region(server):
    status, _, body = raw_call(
        server,
        "SageMaker.DescribeImage",
        {"ImageName": "unsigned"},
        headers={"Authorization": ""},
    )
    assert status == 400
    assert ":us-east-1:" in body["Message"]


def test_timestamps_are_epoch_seconds_with_milliseconds(server, region):
    raw_call(
        server,
        "SageMaker.CreateImage",
        {"ImageName": "ts", "RoleArn": ROLE},
        region=region,
    )
    _, _, body = raw_call(server, "SageMaker.DescribeImage", {"ImageName": "ts"}, region=region)
    created = body["CreationTime"]
    assert isinstance(created, int | float)
    assert 1.7e9 < created < 4e9
    assert round(created * 1000) == pytest.approx(created * 1000, abs=1e-3)
