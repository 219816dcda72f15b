"""Output shapes compiled into serialisers and checks; error envelopes from the model."""

from __future__ import annotations

import pytest

from sagemaker_images.errors import (
    MODELLED,
    InvalidSignature,
    MissingAuthenticationToken,
    ResourceNotFound,
    ValidationError,
)
from sagemaker_images.protocol import model
from sagemaker_images.protocol.dispatch import error_response
from sagemaker_images.protocol.serialize import compile_check, compile_output, loads


def output(operation: str):
    return model.operation(operation).output_shape


def test_absent_members_are_dropped_and_timestamps_are_epoch_seconds():
    serialize = compile_output(output("DescribeImage"))
    answer = serialize(
        {
            "ImageName": "x",
            "Description": None,
            "CreationTime": 1700000000123,
            "LastModifiedTime": 1700000000000,
        }
    )
    assert answer == {
        "ImageName": "x",
        "CreationTime": 1700000000.123,
        "LastModifiedTime": 1700000000.0,
    }


def test_nested_structures_and_lists_are_walked():
    serialize = compile_output(output("ListImageVersions"))
    answer = serialize(
        {
            "ImageVersions": [
                {"Version": 1, "CreationTime": 1000, "FailureReason": "why"},
                {"Version": 2, "CreationTime": 2500},
            ],
            "NextToken": None,
        }
    )
    assert answer == {
        "ImageVersions": [
            {"Version": 1, "CreationTime": 1.0, "FailureReason": "why"},
            {"Version": 2, "CreationTime": 2.5},
        ]
    }


def test_nested_structures_leave_absent_members_out():
    """Only the top level may use None for an absent member; the check holds handlers to it."""
    problems = compile_check(output("ListImageVersions"))(
        {"ImageVersions": [{"Version": 1, "FailureReason": None}], "NextToken": None}
    )
    assert (
        "ListImageVersionsResponse.ImageVersions[0].FailureReason: None inside a structure"
        " (leave the member out)"
    ) in problems


def test_an_operation_without_output_answers_an_empty_object():
    assert compile_output(output("DeleteImage"))({}) == {}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"ImageName": "x", "Unmodelled": 1}, "member 'Unmodelled' is not in shape"),
        ({"ImageName": 5}, "DescribeImageResponse.ImageName: string expected, not int"),
        ({"CreationTime": 1.5}, "timestamp expected, not float"),
        ({"CreationTime": True}, "timestamp expected, not bool"),
        ({"ImageStatus": "SLEEPING"}, "'SLEEPING' is not one of ImageStatus's values"),
    ],
)
def test_the_strict_check_names_what_does_not_fit(answer, problem):
    problems = compile_check(output("DescribeImage"))(answer)
    assert len(problems) == 1 and problem in problems[0], problems


def test_the_strict_check_wants_required_members_and_checks_nested_ones():
    problems = compile_check(output("ListImageVersions"))({"ImageVersions": [{"Version": "1"}]})
    assert (
        "ListImageVersionsResponse.ImageVersions[0].Version: integer expected, not str"
        in (problems[0])
    )
    assert any("required member 'ImageArn' is missing" in p for p in problems)
    assert compile_check(output("DeleteImage"))({"Surprise": 1}) == [
        "DeleteImageResponse: member 'Surprise' is not in shape DeleteImageResponse"
    ]
    assert compile_check(output("DescribeImage"))({"ImageName": "x", "Description": None}) == []


def test_modelled_errors_take_status_and_message_member_from_the_model():
    for error_type in MODELLED:
        assert error_type.code in model.error_shapes()
    status, body = error_response(ResourceNotFound("gone"))
    assert (status, loads(body)) == (400, {"__type": "ResourceNotFound", "Message": "gone"})


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationError("bad"), 400),
        (InvalidSignature("bad"), 400),
        (MissingAuthenticationToken("bad"), 403),
    ],
)
def test_framework_errors_use_their_own_status_and_a_lower_case_message(error, status):
    answer_status, body = error_response(error)
    assert (answer_status, loads(body)) == (status, {"__type": error.code, "message": "bad"})
