"""CreateImageVersion, DescribeImageVersion, UpdateImageVersion, DeleteImageVersion."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from support import (
    create_image,
    create_version,
    error_of,
    query_database,
    version_status,
    wait_until,
)

METADATA = {
    "VendorGuidance": "STABLE",
    "JobType": "TRAINING",
    "MLFramework": "PyTorch 2.1",
    "ProgrammingLang": "Python 3.11",
    "Processor": "GPU",
    "Horovod": True,
    "ReleaseNotes": "First cut",
}


@pytest.fixture
def image(sm):
    create_image(sm, "ml")
    return "ml"


def test_create_and_describe_every_member(paced, region):
    sm, image = paced, create_image(paced, "ml") and "ml"
    arn = sm.create_image_version(
        ImageName=image,
        BaseImage="registry.example:5000/team/ml:1.0",
        Aliases=["stable"],
        **METADATA,
    )["ImageVersionArn"]
    assert arn == f"arn:aws:sagemaker:{region}:123456789012:image-version/ml/1"
    first = sm.describe_image_version(ImageName=image, Version=1)
    assert first["ImageVersionStatus"] == "CREATING"
    assert "ContainerImage" not in first
    wait_until(lambda: version_status(sm, image, 1) == "CREATED")
    described = sm.describe_image_version(ImageName=image, Version=1)
    assert described["BaseImage"] == "registry.example:5000/team/ml:1.0"
    assert described["ContainerImage"] == "registry.example:5000/team/ml:1.0"
    assert described["ImageArn"] == f"arn:aws:sagemaker:{region}:123456789012:image/ml"
    assert described["ImageVersionArn"] == arn
    assert described["Version"] == 1
    assert described["LastModifiedTime"] > described["CreationTime"]
    for member, value in METADATA.items():
        assert described[member] == value
    assert "FailureReason" not in described


def test_listed_versions_say_what_describe_says(make_app, region):
    """List and Describe show a version's summary members alike, FailureReason included."""
    sm = make_app(transitions="0", resolve="required").client(region)
    create_image(sm, "ml")
    sm.create_image_version(ImageName="ml", BaseImage="Registry.example/Team/ML:1")
    wait_until(lambda: version_status(sm, "ml", 1) == "CREATE_FAILED")
    sm.create_image_version(ImageName="ml", BaseImage="registry.example/team/ml@sha256:bad")
    wait_until(lambda: version_status(sm, "ml", 2) == "CREATE_FAILED")
    listed = sm.list_image_versions(ImageName="ml")["ImageVersions"]
    assert len(listed) == 2
    for item in listed:
        described = sm.describe_image_version(ImageName="ml", Version=item["Version"])
        assert set(item) == {
            "CreationTime",
            "FailureReason",
            "ImageArn",
            "ImageVersionArn",
            "ImageVersionStatus",
            "LastModifiedTime",
            "Version",
        }
        assert {member: described[member] for member in item} == item
    assert listed[0]["FailureReason"] == (
        "BaseImage registry.example/team/ml@sha256:bad is not a valid image reference:"
        " digest 'sha256:bad' is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
    )
    assert listed[1]["FailureReason"] == (
        "BaseImage Registry.example/Team/ML:1 is not a valid image reference:"
        " repository path component 'Team' must be lowercase"
    )


def test_numbers_count_up_and_are_never_reused(sm, image):
    assert [create_version(sm, image) for _ in range(3)] == [1, 2, 3]
    sm.delete_image_version(ImageName=image, Version=3)
    wait_until(lambda: version_status(sm, image, 3) is None)
    assert create_version(sm, image) == 4
    listed = sm.list_image_versions(ImageName=image, SortBy="VERSION", SortOrder="ASCENDING")
    assert [v["Version"] for v in listed["ImageVersions"]] == [1, 2, 4]


def test_describe_selects_latest_by_default(sm, image):
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image_version(ImageName=image)
    assert error_of(excinfo) == (
        "ResourceNotFound",
        "Latest ImageVersion with ImageName ml does not exist. Please provide a valid ImageName.",
        400,
    )
    create_version(sm, image)
    create_version(sm, image, Aliases=["newest"])
    assert sm.describe_image_version(ImageName=image)["Version"] == 2


def test_describe_by_alias_and_both_selectors(sm, image):
    create_version(sm, image, Aliases=["prod"])
    create_version(sm, image)
    assert sm.describe_image_version(ImageName=image, Alias="prod")["Version"] == 1
    assert sm.describe_image_version(ImageName=image, Alias="prod", Version=1)["Version"] == 1
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image_version(ImageName=image, Alias="prod", Version=2)
    assert error_of(excinfo)[0] == "ValidationException"


def test_not_found_texts(sm, region, image):
    create_version(sm, image)
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image_version(ImageName=image, Version=9)
    assert error_of(excinfo) == (
        "ResourceNotFound",
        f"ImageVersion with ARN arn:aws:sagemaker:{region}:123456789012:image-version/ml/9 does not exist",
        400,
    )
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image_version(ImageName=image, Alias="nope")
    assert error_of(excinfo) == (
        "ResourceNotFound",
        "ImageVersion with alias nope for ImageName ml does not exist",
        400,
    )
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image_version(ImageName="no-image", Version=1)
    code, message, _ = error_of(excinfo)
    assert code == "ResourceNotFound" and "does not exist" in message
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(ImageName="no-image", BaseImage="r/x:1")
    assert error_of(excinfo)[0] == "ResourceNotFound"


def test_update_and_delete_need_a_selector(sm, image):
    create_version(sm, image, Aliases=["a"])
    for call in (sm.update_image_version, sm.delete_image_version):
        with pytest.raises(ClientError) as excinfo:
            call(ImageName=image)
        assert error_of(excinfo) == (
            "ValidationException",
            "Either Version or Alias must be specified.",
            400,
        )
    assert version_status(sm, image, 1) == "CREATED"


def test_update_and_delete_take_both_selectors_when_they_agree(sm, image):
    """The SageMaker Python SDK's ImageVersion.delete(alias=...) sends both."""
    create_version(sm, image, Aliases=["a"])
    create_version(sm, image, Aliases=["b"])
    for call in (sm.update_image_version, sm.delete_image_version):
        with pytest.raises(ClientError) as excinfo:
            call(ImageName=image, Version=2, Alias="a")
        assert error_of(excinfo) == (
            "ValidationException",
            f"Alias a refers to version 1 of image {image}, not to version 2.",
            400,
        )
    assert version_status(sm, image, 1) == "CREATED"
    sm.update_image_version(ImageName=image, Version=1, Alias="a", ReleaseNotes="agreed")
    assert sm.describe_image_version(ImageName=image, Alias="a")["ReleaseNotes"] == "agreed"
    sm.delete_image_version(ImageName=image, Version=2, Alias="b")
    wait_until(lambda: version_status(sm, image, 2) is None)


def test_update_metadata(sm, image):
    create_version(sm, image, **METADATA)
    before = sm.describe_image_version(ImageName=image, Version=1)
    arn = sm.update_image_version(
        ImageName=image,
        Version=1,
        VendorGuidance="TO_BE_ARCHIVED",
        JobType="INFERENCE",
        MLFramework="TensorFlow 2.15",
        ProgrammingLang="Python 3.10",
        Processor="CPU",
        Horovod=False,
        ReleaseNotes="Second cut",
    )["ImageVersionArn"]
    assert arn == before["ImageVersionArn"]
    after = sm.describe_image_version(ImageName=image, Version=1)
    assert after["VendorGuidance"] == "TO_BE_ARCHIVED"
    assert after["JobType"] == "INFERENCE"
    assert after["MLFramework"] == "TensorFlow 2.15"
    assert after["ProgrammingLang"] == "Python 3.10"
    assert after["Processor"] == "CPU"
    assert after["Horovod"] is False
    assert after["ReleaseNotes"] == "Second cut"
    assert after["ImageVersionStatus"] == "CREATED"
    assert after["LastModifiedTime"] > before["LastModifiedTime"]
    assert after["CreationTime"] == before["CreationTime"]


def test_update_by_alias_keeps_unsent_members(sm, image):
    create_version(sm, image, Aliases=["cur"], **METADATA)
    sm.update_image_version(ImageName=image, Alias="cur", ReleaseNotes="Only this")
    after = sm.describe_image_version(ImageName=image, Version=1)
    assert after["ReleaseNotes"] == "Only this"
    assert after["MLFramework"] == METADATA["MLFramework"]


def test_update_release_notes_to_empty_is_invalid(server, region, sm, image):
    create_version(sm, image, ReleaseNotes="keep")
    lax = server.client(region, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        lax.update_image_version(ImageName=image, Version=1, ReleaseNotes="")
    assert "at 'releaseNotes'" in error_of(excinfo)[1]
    assert sm.describe_image_version(ImageName=image, Version=1)["ReleaseNotes"] == "keep"


def test_missing_version_on_update_and_delete(sm, image):
    for call in (sm.update_image_version, sm.delete_image_version):
        with pytest.raises(ClientError) as excinfo:
            call(ImageName=image, Version=5)
        code, message, _ = error_of(excinfo)
        assert code == "ResourceNotFound" and "does not exist" in message


def test_delete_goes_through_deleting(paced):
    sm, image = paced, create_image(paced, "ml") and "ml"
    create_version(sm, image, Aliases=["gone-soon"])
    sm.delete_image_version(ImageName=image, Alias="gone-soon")
    assert version_status(sm, image, 1) == "DELETING"
    with pytest.raises(ClientError) as excinfo:
        sm.delete_image_version(ImageName=image, Version=1)
    assert error_of(excinfo)[0] == "ResourceInUse"
    wait_until(lambda: version_status(sm, image, 1) is None)
    assert sm.list_aliases(ImageName=image)["SageMakerImageVersionAliases"] == []


def test_versions_in_transition_refuse_update_and_delete(make_app, region):
    quick = make_app(transitions="0")
    create_image(quick.client(region), "transit")
    quick.stop()
    sm = make_app(transitions="60", database_url=quick.settings.database_url).client(region)
    sm.create_image_version(ImageName="transit", BaseImage="r/x:1")
    calls = (
        lambda: sm.update_image_version(ImageName="transit", Version=1, ReleaseNotes="x"),
        lambda: sm.delete_image_version(ImageName="transit", Version=1),
    )
    for call in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        code, message, _ = error_of(excinfo)
        assert code == "ResourceInUse"
        assert message.endswith(
            "/transit/1 is currently CREATING. Retry after the operation completes."
        )


def test_client_token_makes_create_idempotent(sm, image):
    token = str(uuid.uuid4())
    first = sm.create_image_version(
        ImageName=image, BaseImage="r/x:1", ClientToken=token, Aliases=["a"]
    )
    again = sm.create_image_version(
        ImageName=image, BaseImage="r/x:1", ClientToken=token, Aliases=["a"]
    )
    assert again["ImageVersionArn"] == first["ImageVersionArn"]
    assert len(sm.list_image_versions(ImageName=image)["ImageVersions"]) == 1
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(ImageName=image, BaseImage="r/x:2", ClientToken=token)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert "different parameters" in message
    # Without a token of their own, SDK calls get a fresh one each time.
    sm.create_image_version(ImageName=image, BaseImage="r/x:1")
    assert len(sm.list_image_versions(ImageName=image)["ImageVersions"]) == 2


def test_version_quota(make_app, region):
    sm = make_app(max_versions_per_image=2, transitions="0").client(region)
    create_image(sm, "capped")
    create_version(sm, "capped")
    create_version(sm, "capped")
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(ImageName="capped", BaseImage="r/x:3")
    code, message, _ = error_of(excinfo)
    assert code == "ResourceLimitExceeded"
    assert "is 2 ImageVersions, with current utilization of 2 ImageVersions" in message
    sm.delete_image_version(ImageName="capped", Version=1)
    wait_until(lambda: version_status(sm, "capped", 1) is None)
    assert create_version(sm, "capped") == 3


def test_an_expired_client_token_makes_a_new_version(make_app, region):
    """A ClientToken answers for 24 hours; after that the same token makes a new version."""
    app = make_app(transitions="immediate")
    sm = app.client(region)
    create_image(sm, "tokened")
    first = sm.create_image_version(ImageName="tokened", BaseImage="r/x:1", ClientToken="t-1")
    # A day and a minute pass for the token (its age is the only thing the call reads).
    query_database(
        app.settings.database_url,
        "UPDATE client_tokens SET created_ms = created_ms - ? WHERE token = ?",
        (24 * 3600 * 1000 + 60_000, "t-1"),
    )
    second = sm.create_image_version(ImageName="tokened", BaseImage="r/x:2", ClientToken="t-1")
    assert first["ImageVersionArn"].endswith("/tokened/1")
    assert second["ImageVersionArn"].endswith("/tokened/2")
    # And the renewed token now answers for the second version.
    again = sm.create_image_version(ImageName="tokened", BaseImage="r/x:2", ClientToken="t-1")
    assert again["ImageVersionArn"] == second["ImageVersionArn"]
