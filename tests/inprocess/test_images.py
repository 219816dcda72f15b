"""CreateImage, DescribeImage, UpdateImage, DeleteImage, ListImages."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client
from support import (
    ROLE,
    create_image,
    create_version,
    error_of,
    image_status,
    version_status,
    wait_until,
)


def test_create_then_describe(paced, region):
    sm = paced
    arn = sm.create_image(
        ImageName="Analytics-Base", RoleArn=ROLE, Description="Team image", DisplayName="Analytics"
    )["ImageArn"]
    assert arn == f"arn:aws:sagemaker:{region}:123456789012:image/analytics-base"
    described = sm.describe_image(ImageName="Analytics-Base")
    assert described["ImageStatus"] == "CREATING"
    assert described["ImageName"] == "Analytics-Base"
    assert described["ImageArn"] == arn
    assert described["RoleArn"] == ROLE
    assert described["Description"] == "Team image"
    assert described["DisplayName"] == "Analytics"
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert "FailureReason" not in described
    wait_until(lambda: image_status(sm, "Analytics-Base") == "CREATED")
    later = sm.describe_image(ImageName="Analytics-Base")
    assert later["LastModifiedTime"] > later["CreationTime"]


def test_optional_members_are_omitted(sm):
    create_image(sm, "plain")
    described = sm.describe_image(ImageName="plain")
    assert "DisplayName" not in described and "Description" not in described


def test_names_are_case_insensitive(sm):
    create_image(sm, "MixedCase")
    assert sm.describe_image(ImageName="mixedcase")["ImageName"] == "MixedCase"
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="MIXEDCASE", RoleArn=ROLE)
    assert error_of(excinfo) == (
        "ResourceInUse",
        "The Image with ImageName MIXEDCASE already exists. Please use a different ImageName.",
        400,
    )


def test_waiter_for_creation(sm):
    sm.create_image(ImageName="waited", RoleArn=ROLE)
    sm.get_waiter("image_created").wait(ImageName="waited", WaiterConfig={"Delay": 0.1})
    assert image_status(sm, "waited") == "CREATED"


def test_describe_missing(sm, region):
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image(ImageName="Ghost")
    assert error_of(excinfo) == (
        "ResourceNotFound",
        f"Image with ARN arn:aws:sagemaker:{region}:123456789012:image/ghost does not exist",
        400,
    )


def test_update_goes_through_updating(paced):
    sm = paced
    create_image(sm, "upd", Description="old", DisplayName="Old")
    arn = sm.update_image(
        ImageName="upd", Description="new", RoleArn=ROLE.replace("SageMakerRole", "Other")
    )["ImageArn"]
    assert arn.endswith(":image/upd")
    described = sm.describe_image(ImageName="upd")
    assert described["ImageStatus"] == "UPDATING"
    assert described["Description"] == "new"
    assert described["DisplayName"] == "Old"
    assert described["RoleArn"].endswith("role/Other")
    wait_until(lambda: image_status(sm, "upd") == "CREATED")


def test_update_delete_properties(sm):
    create_image(sm, "props", Description="d", DisplayName="D")
    sm.update_image(ImageName="props", DeleteProperties=["DisplayName", "Description"])
    wait_until(lambda: image_status(sm, "props") == "CREATED")
    described = sm.describe_image(ImageName="props")
    assert "DisplayName" not in described and "Description" not in described


def test_update_cannot_set_and_delete_one_property(sm):
    create_image(sm, "conflict", Description="d")
    with pytest.raises(ClientError) as excinfo:
        sm.update_image(ImageName="conflict", Description="x", DeleteProperties=["Description"])
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException" and "Description" in message
    assert sm.describe_image(ImageName="conflict")["Description"] == "d"


def test_update_and_delete_missing_image(sm):
    for call in (
        lambda: sm.update_image(ImageName="absent", Description="x"),
        lambda: sm.delete_image(ImageName="absent"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        code, message, _ = error_of(excinfo)
        assert code == "ResourceNotFound" and "does not exist" in message


def test_busy_images_refuse_changes(slow_server, region):
    sm = slow_server.client(region)
    sm.create_image(ImageName="busy", RoleArn=ROLE)
    for call in (
        lambda: sm.update_image(ImageName="busy", Description="x"),
        lambda: sm.delete_image(ImageName="busy"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (
            "ResourceInUse",
            "Image busy is currently CREATING. Retry after the operation completes.",
            400,
        )
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(ImageName="busy", BaseImage="r/x:1")
    assert error_of(excinfo) == ("ValidationException", "Image busy is in an invalid state.", 400)
    assert sm.describe_image(ImageName="busy")["ImageStatus"] == "CREATING"


def test_delete_cascades_to_versions(paced):
    sm = paced
    create_image(sm, "doomed")
    create_version(sm, "doomed")
    create_version(sm, "doomed")
    assert sm.delete_image(ImageName="doomed")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert image_status(sm, "doomed") == "DELETING"
    statuses = {
        v["ImageVersionStatus"] for v in sm.list_image_versions(ImageName="doomed")["ImageVersions"]
    }
    assert statuses == {"DELETING"}
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="doomed", RoleArn=ROLE)
    assert error_of(excinfo)[0] == "ResourceInUse"
    wait_until(lambda: image_status(sm, "doomed") is None)
    with pytest.raises(ClientError) as excinfo:
        sm.list_image_versions(ImageName="doomed")
    assert error_of(excinfo)[0] == "ResourceNotFound"


def test_recreated_image_starts_fresh(sm):
    create_image(sm, "phoenix", Description="first")
    assert create_version(sm, "phoenix") == 1
    assert create_version(sm, "phoenix") == 2
    sm.delete_image(ImageName="phoenix")
    wait_until(lambda: image_status(sm, "phoenix") is None)
    create_image(sm, "phoenix")
    assert "Description" not in sm.describe_image(ImageName="phoenix")
    assert sm.list_image_versions(ImageName="phoenix")["ImageVersions"] == []
    assert create_version(sm, "phoenix") == 1
    assert version_status(sm, "phoenix", 2) is None


def test_deleted_waiter_waits_for_resource_not_found(sm):
    """botocore's ImageDeleted waiter, since 1.43.125, waits for the ResourceNotFound AWS
    (and this server) sends once the image is gone."""
    create_image(sm, "waiter")
    sm.delete_image(ImageName="waiter")
    sm.get_waiter("image_deleted").wait(
        ImageName="waiter", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
    )
    assert image_status(sm, "waiter") is None


def test_deleted_waiter_of_older_botocore_fails_as_against_aws(sm):
    """Before 1.43.125 it waited for ResourceNotFoundException, which AWS never sends
    (boto/botocore#3782): it fails on the ResourceNotFound, here as there."""
    create_image(sm, "waiter-bug")
    sm.delete_image(ImageName="waiter-bug")
    old = {
        "version": 2,
        "waiters": {
            "ImageDeleted": {
                "delay": 0.1,
                "maxAttempts": 10,
                "operation": "DescribeImage",
                "acceptors": [
                    {"matcher": "error", "state": "success", "expected": "ResourceNotFoundException"},
                    {"matcher": "path", "argument": "ImageStatus", "state": "failure", "expected": "DELETE_FAILED"},
                    {"matcher": "error", "state": "failure", "expected": "ValidationException"},
                ],
            }
        },
    }  # fmt: skip
    waiter = create_waiter_with_client("ImageDeleted", WaiterModel(old), sm)
    with pytest.raises(WaiterError, match="ResourceNotFound"):
        waiter.wait(ImageName="waiter-bug")
    assert image_status(sm, "waiter-bug") is None


def test_image_quota(make_app, region):
    server = make_app(max_images=2, transitions="0")
    sm = server.client(region)
    sm.create_image(ImageName="one", RoleArn=ROLE)
    sm.create_image(ImageName="two", RoleArn=ROLE)
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="three", RoleArn=ROLE)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ResourceLimitExceeded", 400)
    assert message.startswith("The account-level service limit ")
    assert (
        "is 2 Images, with current utilization of 2 Images and a request delta of 1 Images"
        in message
    )
    listed = sm.list_images(SortBy="IMAGE_NAME", SortOrder="ASCENDING")["Images"]
    assert [i["ImageName"] for i in listed] == ["one", "two"]
    # The quota counts per account and region.
    server.client(region + "b").create_image(ImageName="three", RoleArn=ROLE)
