"""Accounts are decided by the signing key: one account never sees another's catalog.

Every call another account makes on a resource must answer exactly what it answers for a
name that does not exist at all, and must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from auth_support import ACCOUNT_A, ACCOUNT_B, KEY_A, KEY_A2, KEY_B, client_for
from botocore.exceptions import ClientError
from support import ROLE, create_image, create_version, error_of, image_status, wait_until

PRIVATE = "private"
ABSENT = "never-existed"

# Every call naming an image, as account B would make it.
CALLS: dict[str, Callable[[Any, str], Any]] = {
    "DescribeImage": lambda sm, name: sm.describe_image(ImageName=name),
    "UpdateImage": lambda sm, name: sm.update_image(ImageName=name, Description="taken over"),
    "DeleteImage": lambda sm, name: sm.delete_image(ImageName=name),
    "CreateImageVersion": lambda sm, name: sm.create_image_version(
        ImageName=name, BaseImage="registry.example/intruder:1"
    ),
    "DescribeImageVersion(latest)": lambda sm, name: sm.describe_image_version(ImageName=name),
    "DescribeImageVersion(version)": lambda sm, name: sm.describe_image_version(
        ImageName=name, Version=1
    ),
    "DescribeImageVersion(alias)": lambda sm, name: sm.describe_image_version(
        ImageName=name, Alias="stable"
    ),
    "UpdateImageVersion": lambda sm, name: sm.update_image_version(
        ImageName=name, Version=1, AliasesToAdd=["hijacked"]
    ),
    "DeleteImageVersion(version)": lambda sm, name: sm.delete_image_version(
        ImageName=name, Version=1
    ),
    "DeleteImageVersion(alias)": lambda sm, name: sm.delete_image_version(
        ImageName=name, Alias="stable"
    ),
    "ListImageVersions": lambda sm, name: sm.list_image_versions(ImageName=name),
    "ListAliases": lambda sm, name: sm.list_aliases(ImageName=name),
    "ListAliases(alias)": lambda sm, name: sm.list_aliases(ImageName=name, Alias="stable"),
}


def refusal(call: Callable[[Any, str], Any], sm: Any, name: str) -> tuple[str, str, int]:
    """The error of `call` on `name`, with the name blanked out for comparison."""
    with pytest.raises(ClientError) as excinfo:
        call(sm, name)
    code, message, status = error_of(excinfo)
    return code, message.replace(name, "<name>"), status


def outcome(call: Callable[[Any, str], Any], sm: Any, target: str) -> Any:
    """What `call` answers on `target`: its result or its error, with `target` blanked out."""
    try:
        result = call(sm, target)
    except ClientError as error:
        return error_of_response(error.response, target)
    result.pop("ResponseMetadata", None)
    return result


def error_of_response(response: dict[str, Any], target: str) -> tuple[str, str, int]:
    return (
        response["Error"]["Code"],
        response["Error"]["Message"].replace(target, "<target>"),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


@pytest.fixture
def accounts(auth_server, region):
    a = client_for(auth_server, KEY_A, region)
    b = client_for(auth_server, KEY_B, region)
    create_image(a, PRIVATE, Description="belongs to A")
    create_version(a, PRIVATE, Aliases=["stable"])
    return a, b


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_another_accounts_image_answers_as_a_missing_one(accounts, operation):
    _, b = accounts
    call = CALLS[operation]
    assert refusal(call, b, PRIVATE) == refusal(call, b, ABSENT)
    code, message, _ = refusal(call, b, PRIVATE)
    assert code == "ResourceNotFound" and "does not exist" in message
    assert ACCOUNT_A not in message


def test_nothing_another_account_tries_changes_anything(accounts):
    a, b = accounts
    for call in CALLS.values():
        with pytest.raises(ClientError):
            call(b, PRIVATE)
    described = a.describe_image(ImageName=PRIVATE)
    assert (described["ImageStatus"], described["Description"]) == ("CREATED", "belongs to A")
    versions = a.list_image_versions(ImageName=PRIVATE)["ImageVersions"]
    assert [(v["Version"], v["ImageVersionStatus"]) for v in versions] == [(1, "CREATED")]
    aliases = a.list_aliases(ImageName=PRIVATE)["SageMakerImageVersionAliases"]
    assert aliases == ["stable"]
    assert b.list_images()["Images"] == []


def test_same_names_in_two_accounts_are_two_images(auth_server, region):
    a = client_for(auth_server, KEY_A, region)
    b = client_for(auth_server, KEY_B, region)
    arn_a = create_image(a, "shared", Description="A's")
    arn_b = create_image(b, "shared", Description="B's")
    assert arn_a == f"arn:aws:sagemaker:{region}:{ACCOUNT_A}:image/shared"
    assert arn_b == f"arn:aws:sagemaker:{region}:{ACCOUNT_B}:image/shared"
    assert create_version(a, "shared", base="registry.example/a:1") == 1
    assert create_version(b, "shared", base="registry.example/b:1") == 1
    assert a.describe_image(ImageName="shared")["Description"] == "A's"
    assert b.describe_image(ImageName="shared")["Description"] == "B's"
    version_b = b.describe_image_version(ImageName="shared", Version=1)
    assert version_b["BaseImage"] == "registry.example/b:1"
    assert version_b["ImageVersionArn"].split(":")[4] == ACCOUNT_B
    # Another key of account A sees A's image, not B's.
    a2 = client_for(auth_server, KEY_A2, region)
    assert a2.describe_image(ImageName="shared")["ImageArn"] == arn_a
    # A deleting its image leaves B's alone.
    a.delete_image(ImageName="shared")
    wait_until(lambda: image_status(a, "shared") is None)
    assert b.describe_image(ImageName="shared")["ImageStatus"] == "CREATED"
    assert [i["ImageArn"] for i in b.list_images()["Images"]] == [arn_b]


def test_lists_and_their_tokens_stay_within_the_account(auth_server, region):
    a = client_for(auth_server, KEY_A, region)
    b = client_for(auth_server, KEY_B, region)
    for name in ("a-one", "a-two", "a-three"):
        a.create_image(ImageName=name, RoleArn=ROLE)
    b.create_image(ImageName="b-one", RoleArn=ROLE)
    assert [i["ImageName"] for i in b.list_images(NameContains="one")["Images"]] == ["b-one"]
    token = a.list_images(MaxResults=1)["NextToken"]
    # A token is bound to the account (and region) it was issued in.
    with pytest.raises(ClientError) as excinfo:
        b.list_images(MaxResults=5, NextToken=token)
    assert error_of(excinfo) == ("ValidationException", "Invalid pagination token", 400)
    elsewhere = client_for(auth_server, KEY_A, region + "x")
    with pytest.raises(ClientError) as excinfo:
        elsewhere.list_images(MaxResults=5, NextToken=token)
    assert error_of(excinfo) == ("ValidationException", "Invalid pagination token", 400)
    assert len(a.list_images(MaxResults=5, NextToken=token)["Images"]) == 2


def test_tags_of_another_accounts_image_answer_as_a_missing_one(accounts, region):
    a, b = accounts
    arn = a.describe_image(ImageName=PRIVATE)["ImageArn"]
    absent_arn = arn.replace(PRIVATE, ABSENT)
    assert a.list_tags(ResourceArn=arn)["Tags"] == []
    a.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "a"}])
    calls: list[Callable[[Any, str], Any]] = [
        lambda sm, target: sm.list_tags(ResourceArn=target),
        lambda sm, target: sm.add_tags(ResourceArn=target, Tags=[{"Key": "k", "Value": "v"}]),
        lambda sm, target: sm.delete_tags(ResourceArn=target, TagKeys=["owner"]),
    ]
    for call in calls:
        # B names A's resource by its full ARN (account A inside): as if it did not exist.
        assert outcome(call, b, arn) == outcome(call, b, absent_arn)
    assert a.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "a"}]


CONFIG_CALLS: dict[str, Callable[[Any, str], Any]] = {
    "DescribeAppImageConfig": lambda sm, name: sm.describe_app_image_config(
        AppImageConfigName=name
    ),
    "UpdateAppImageConfig": lambda sm, name: sm.update_app_image_config(
        AppImageConfigName=name,
        KernelGatewayImageConfig={"KernelSpecs": [{"Name": "hijacked"}]},
    ),
    "DeleteAppImageConfig": lambda sm, name: sm.delete_app_image_config(AppImageConfigName=name),
}


def test_another_accounts_app_image_config_answers_as_a_missing_one(auth_server, region):
    a = client_for(auth_server, KEY_A, region)
    b = client_for(auth_server, KEY_B, region)
    spec = {"KernelSpecs": [{"Name": "python3"}]}
    arn = a.create_app_image_config(AppImageConfigName=PRIVATE, KernelGatewayImageConfig=spec)[
        "AppImageConfigArn"
    ]
    assert arn.split(":")[4] == ACCOUNT_A
    for call in CONFIG_CALLS.values():
        assert refusal(call, b, PRIVATE) == refusal(call, b, ABSENT)
    assert b.list_app_image_configs()["AppImageConfigs"] == []
    described = a.describe_app_image_config(AppImageConfigName=PRIVATE)
    assert described["KernelGatewayImageConfig"] == spec
    # The same name in B's account is B's own config.
    arn_b = b.create_app_image_config(AppImageConfigName=PRIVATE)["AppImageConfigArn"]
    assert arn_b == arn.replace(ACCOUNT_A, ACCOUNT_B)
