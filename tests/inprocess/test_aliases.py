"""Aliases: secondary names of versions, unique within an image, listed with ListAliases."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from support import create_image, create_version, error_of, version_status, wait_until


@pytest.fixture
def image(sm):
    create_image(sm, "al")
    create_version(sm, "al", Aliases=["one", "first"])
    create_version(sm, "al", Aliases=["two"])
    return "al"


def aliases(sm, **selectors):
    return sm.list_aliases(ImageName="al", **selectors)["SageMakerImageVersionAliases"]


def test_list_modes(sm, image):
    assert aliases(sm) == ["first", "one", "two"]  # by version, then alias
    assert aliases(sm, Version=1) == ["first", "one"]
    assert aliases(sm, Version=2) == ["two"]
    assert aliases(sm, Alias="two") == ["two"]


def test_list_missing_things(sm, image):
    with pytest.raises(ClientError) as excinfo:
        sm.list_aliases(ImageName=image, Alias="zzz")
    assert error_of(excinfo) == (
        "ResourceNotFound",
        "ImageVersion with alias zzz for ImageName al does not exist",
        400,
    )
    with pytest.raises(ClientError) as excinfo:
        sm.list_aliases(ImageName=image, Version=7)
    code, message, _ = error_of(excinfo)
    assert code == "ResourceNotFound" and message.endswith("image-version/al/7 does not exist")
    with pytest.raises(ClientError) as excinfo:
        sm.list_aliases(ImageName="nothing-here")
    assert error_of(excinfo)[0] == "ResourceNotFound"


def test_an_alias_names_one_version(sm, image):
    with pytest.raises(ClientError) as excinfo:
        sm.update_image_version(ImageName=image, Version=2, AliasesToAdd=["one"])
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert "one" in message and "version 1" in message
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(ImageName=image, BaseImage="r/x:3", Aliases=["two"])
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException" and "two" in message and "version 2" in message
    assert aliases(sm) == ["first", "one", "two"]
    assert version_status(sm, image, 3) is None


def test_moving_an_alias(sm, image):
    sm.update_image_version(ImageName=image, Version=1, AliasesToDelete=["one"])
    sm.update_image_version(ImageName=image, Version=2, AliasesToAdd=["one"])
    assert sm.describe_image_version(ImageName=image, Alias="one")["Version"] == 2


def test_adding_a_held_alias_is_a_no_op(sm, image):
    sm.update_image_version(ImageName=image, Version=1, AliasesToAdd=["one", "extra"])
    assert aliases(sm, Version=1) == ["extra", "first", "one"]


def test_deleting_an_absent_alias_is_invalid(sm, image):
    for absent in ("two", "never"):
        with pytest.raises(ClientError) as excinfo:
            sm.update_image_version(ImageName=image, Version=1, AliasesToDelete=[absent])
        code, message, _ = error_of(excinfo)
        assert code == "ValidationException" and absent in message
    assert aliases(sm, Version=1) == ["first", "one"]


def test_add_and_delete_in_one_call(sm, image):
    sm.update_image_version(
        ImageName=image, Alias="first", AliasesToAdd=["uno"], AliasesToDelete=["first"]
    )
    assert aliases(sm, Version=1) == ["one", "uno"]
    with pytest.raises(ClientError) as excinfo:
        sm.update_image_version(
            ImageName=image, Version=1, AliasesToAdd=["x"], AliasesToDelete=["x"]
        )
    assert error_of(excinfo)[0] == "ValidationException"


def test_failed_update_changes_nothing(sm, image):
    with pytest.raises(ClientError):
        sm.update_image_version(
            ImageName=image,
            Version=1,
            AliasesToAdd=["fresh"],
            AliasesToDelete=["two"],
            ReleaseNotes="n",
        )
    assert aliases(sm, Version=1) == ["first", "one"]
    assert "ReleaseNotes" not in sm.describe_image_version(ImageName=image, Version=1)


def test_aliases_go_with_their_version(sm, image):
    sm.delete_image_version(ImageName=image, Version=1)
    wait_until(lambda: version_status(sm, image, 1) is None)
    assert aliases(sm) == ["two"]
    # The freed alias can name another version now.
    sm.update_image_version(ImageName=image, Version=2, AliasesToAdd=["one"])
    assert aliases(sm) == ["one", "two"]


def test_same_alias_on_different_images(sm, image):
    create_image(sm, "other")
    create_version(sm, "other", Aliases=["one"])
    assert sm.describe_image_version(ImageName="other", Alias="one")["Version"] == 1


def test_paging_through_aliases(sm):
    create_image(sm, "many")
    names = [f"a{i:02d}" for i in range(23)]
    create_version(sm, "many", Aliases=names[:12])
    create_version(sm, "many", Aliases=names[12:])
    seen = []
    pages = sm.get_paginator("list_aliases").paginate(
        ImageName="many", PaginationConfig={"PageSize": 5}
    )
    for page in pages:
        assert len(page["SageMakerImageVersionAliases"]) <= 5
        seen.extend(page["SageMakerImageVersionAliases"])
    assert seen == names
    first = sm.list_aliases(ImageName="many")
    assert len(first["SageMakerImageVersionAliases"]) == 10 and "NextToken" in first
