"""User profiles and spaces: what lives in a domain, by name, with its own custom images."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError
from support import ROLE, error_of

NETWORK = {"VpcId": "vpc-0abc", "SubnetIds": ["subnet-0abc"]}
KERNELS = {"ImageName": "kernels-image", "AppImageConfigName": "kernels"}


@pytest.fixture
def domain_id(sm):
    sm.create_image(ImageName="kernels-image", RoleArn=ROLE)
    sm.create_image_version(ImageName="kernels-image", BaseImage="r/kernels:1")
    sm.create_app_image_config(
        AppImageConfigName="kernels", KernelGatewayImageConfig={"KernelSpecs": [{"Name": "py"}]}
    )
    created = sm.create_domain(
        DomainName="studio", AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE}, **NETWORK
    )
    return created["DomainId"]


def described(answer: dict) -> dict:
    answer.pop("ResponseMetadata")
    return answer


def test_a_profile_keeps_only_its_own_settings(sm, domain_id, region):
    arn = sm.create_user_profile(DomainId=domain_id, UserProfileName="Alice")["UserProfileArn"]
    assert arn == f"arn:aws:sagemaker:{region}:123456789012:user-profile/{domain_id}/alice"
    # Looked up whatever the case, as Terraform does with the name it reads from the ARN.
    profile = described(sm.describe_user_profile(DomainId=domain_id, UserProfileName="alice"))
    assert profile == {
        "DomainId": domain_id,
        "UserProfileArn": arn,
        "UserProfileName": "Alice",
        "HomeEfsFileSystemUid": "200001",
        "Status": "InService",
        "CreationTime": profile["CreationTime"],
        "LastModifiedTime": profile["LastModifiedTime"],
    }
    with pytest.raises(ClientError) as taken:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="ALICE")
    assert error_of(taken) == ("ResourceInUse", f"UserProfile {arn} already exists.", 400)
    sm.create_space(DomainId=domain_id, SpaceName="shared")
    second = sm.create_user_profile(DomainId=domain_id, UserProfileName="bob")
    uid = sm.describe_user_profile(DomainId=domain_id, UserProfileName="bob")
    assert uid["HomeEfsFileSystemUid"] == "200003"  # one counter for profiles and spaces
    assert second["UserProfileArn"].endswith("/bob")


def test_profile_settings_merge_and_their_images_must_exist(sm, domain_id):
    settings = {
        "ExecutionRole": ROLE,
        "KernelGatewayAppSettings": {"CustomImages": [{**KERNELS, "ImageVersionNumber": 1}]},
    }
    sm.create_user_profile(DomainId=domain_id, UserProfileName="alice", UserSettings=settings)
    sm.update_user_profile(
        DomainId=domain_id,
        UserProfileName="alice",
        UserSettings={"JupyterLabAppSettings": {"CustomImages": [KERNELS]}},
    )
    got = sm.describe_user_profile(DomainId=domain_id, UserProfileName="alice")["UserSettings"]
    assert got == {**settings, "JupyterLabAppSettings": {"CustomImages": [KERNELS]}}
    with pytest.raises(ClientError) as refused:
        sm.update_user_profile(
            DomainId=domain_id,
            UserProfileName="alice",
            UserSettings={
                "KernelGatewayAppSettings": {"CustomImages": [{**KERNELS, "ImageVersionNumber": 2}]}
            },
        )
    assert error_of(refused) == (
        "ValidationException",
        "ImageVersion 2 of Image kernels-image does not exist.",
        400,
    )


def test_what_lives_in_a_missing_domain_is_not_found(sm, domain_id, region):
    with pytest.raises(ClientError) as no_domain:
        sm.create_user_profile(DomainId="d-000000000000", UserProfileName="alice")
    assert error_of(no_domain) == (
        "ResourceNotFound",
        "Domain d-000000000000 does not exist.",
        400,
    )
    arn = f"arn:aws:sagemaker:{region}:123456789012:user-profile/{domain_id}/nobody"
    for call in (
        lambda: sm.describe_user_profile(DomainId=domain_id, UserProfileName="nobody"),
        lambda: sm.delete_user_profile(DomainId=domain_id, UserProfileName="nobody"),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert error_of(missing) == ("ResourceNotFound", f"UserProfile {arn} does not exist.", 400)
    space = arn.replace("user-profile", "space")
    with pytest.raises(ClientError) as no_space:
        sm.describe_space(DomainId=domain_id, SpaceName="nobody")
    assert error_of(no_space) == ("ResourceNotFound", f"Space {space} does not exist.", 400)


def test_a_private_space_holds_its_owner(sm, domain_id):
    sm.create_user_profile(DomainId=domain_id, UserProfileName="alice")
    with pytest.raises(ClientError) as no_owner:
        sm.create_space(
            DomainId=domain_id,
            SpaceName="private",
            OwnershipSettings={"OwnerUserProfileName": "nobody"},
            SpaceSharingSettings={"SharingType": "Private"},
        )
    assert error_of(no_owner)[0] == "ResourceNotFound"
    sm.create_space(
        DomainId=domain_id,
        SpaceName="private",
        OwnershipSettings={"OwnerUserProfileName": "Alice"},
        SpaceSharingSettings={"SharingType": "Private"},
    )
    with pytest.raises(ClientError) as held:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="alice")
    code, message, _ = error_of(held)
    assert code == "ResourceInUse"
    assert message.endswith("/alice] because Space(s) are associated with it.")
    sm.delete_space(DomainId=domain_id, SpaceName="private")
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="alice")
    assert sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"] == []


def test_a_space_echoes_its_settings_and_keeps_its_app_type(sm, domain_id, region):
    settings = {
        "AppType": "JupyterLab",
        "KernelGatewayAppSettings": {"CustomImages": [{**KERNELS, "ImageVersionNumber": 0}]},
        "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}},
    }
    arn = sm.create_space(
        DomainId=domain_id,
        SpaceName="Shared",
        SpaceSettings=settings,
        SpaceSharingSettings={"SharingType": "Shared"},
        SpaceDisplayName="Team space",
        Tags=[{"Key": "team", "Value": "ml"}],
    )["SpaceArn"]
    assert arn == f"arn:aws:sagemaker:{region}:123456789012:space/{domain_id}/shared"
    space = described(sm.describe_space(DomainId=domain_id, SpaceName="shared"))
    assert space["SpaceSettings"] == settings
    assert space["SpaceDisplayName"] == "Team space" and space["SpaceName"] == "Shared"
    assert re.fullmatch(rf"https://[a-z0-9]{{15}}\.studio\.{region}\.sagemaker\.aws", space["Url"])
    assert "OwnershipSettings" not in space
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ClientError) as refused:
        sm.update_space(
            DomainId=domain_id, SpaceName="shared", SpaceSettings={"AppType": "CodeEditor"}
        )
    assert error_of(refused)[0] == "ValidationException"
    sm.update_space(
        DomainId=domain_id,
        SpaceName="shared",
        SpaceSettings={"KernelGatewayAppSettings": {"CustomImages": []}},
        SpaceDisplayName="Renamed",
    )
    space = sm.describe_space(DomainId=domain_id, SpaceName="shared")
    assert space["SpaceSettings"]["KernelGatewayAppSettings"] == {"CustomImages": []}
    assert space["SpaceSettings"]["AppType"] == "JupyterLab"
    assert space["SpaceDisplayName"] == "Renamed"
    (listed,) = sm.list_spaces(DomainIdEquals=domain_id)["Spaces"]
    assert listed["SpaceSettingsSummary"] == {"AppType": "JupyterLab"}
    assert listed["SpaceSharingSettingsSummary"] == {"SharingType": "Shared"}
    assert "OwnershipSettingsSummary" not in listed


def test_lists_filter_sort_and_page(sm, domain_id):
    names = ["alpha", "Beta", "gamma"]
    for name in names:
        sm.create_user_profile(DomainId=domain_id, UserProfileName=name)
    other = sm.create_domain(
        DomainName="other", AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE}, **NETWORK
    )["DomainId"]
    sm.create_user_profile(DomainId=other, UserProfileName="delta")
    mine = sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"]
    assert [p["UserProfileName"] for p in mine] == names  # creation order, ascending
    assert set(mine[0]) == {
        "DomainId",
        "UserProfileName",
        "Status",
        "CreationTime",
        "LastModifiedTime",
    }
    matching = sm.list_user_profiles(UserProfileNameContains="A")["UserProfiles"]
    assert [p["UserProfileName"] for p in matching] == ["alpha", "Beta", "gamma", "delta"]
    page = sm.list_user_profiles(SortBy="CreationTime", SortOrder="Descending", MaxResults=3)
    assert [p["UserProfileName"] for p in page["UserProfiles"]] == ["delta", "gamma", "Beta"]
    rest = sm.list_user_profiles(
        SortBy="CreationTime", SortOrder="Descending", MaxResults=3, NextToken=page["NextToken"]
    )
    assert [p["UserProfileName"] for p in rest["UserProfiles"]] == ["alpha"]
    with pytest.raises(ClientError) as mixed:
        sm.list_spaces(NextToken=page["NextToken"])
    assert error_of(mixed) == ("ValidationException", "Invalid pagination token", 400)


def test_quotas_per_domain(make_app, region):
    sm = make_app(max_user_profiles=1, max_spaces=1, transitions="immediate").client(region)
    domain = sm.create_domain(
        DomainName="small", AuthMode="IAM", DefaultUserSettings={}, **NETWORK
    )["DomainId"]
    sm.create_user_profile(DomainId=domain, UserProfileName="one")
    sm.create_space(DomainId=domain, SpaceName="one")
    for call in (
        lambda: sm.create_user_profile(DomainId=domain, UserProfileName="two"),
        lambda: sm.create_space(DomainId=domain, SpaceName="two"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_of(refused)[0] == "ResourceLimitExceeded"


def test_the_control_api_completes_and_resets_studio_resources(make_app, region):
    app = make_app(transitions="manual", control_api=True)
    sm = app.client(region)
    created = sm.create_domain(DomainName="held", AuthMode="IAM", DefaultUserSettings={}, **NETWORK)
    assert sm.describe_domain(DomainId=created["DomainId"])["Status"] == "Pending"
    with pytest.raises(ClientError) as waiting:
        sm.create_user_profile(DomainId=created["DomainId"], UserProfileName="early")
    assert error_of(waiting)[1].endswith("is in Pending state.")
    assert _control(app, "complete", {"arn": created["DomainArn"]}) == {
        "completed": [created["DomainArn"]]
    }
    profile = sm.create_user_profile(DomainId=created["DomainId"], UserProfileName="alice")
    _control(app, "complete", {"arn": profile["UserProfileArn"], "fail": "no role to assume"})
    failed = sm.describe_user_profile(DomainId=created["DomainId"], UserProfileName="alice")
    assert (failed["Status"], failed["FailureReason"]) == ("Failed", "no role to assume")
    sm.update_domain(DomainId=created["DomainId"], TagPropagation="ENABLED")
    _control(
        app, "complete", {"arn": created["DomainArn"], "fail": "cannot describe image version"}
    )
    domain = sm.describe_domain(DomainId=created["DomainId"])
    assert (domain["Status"], domain["FailureReason"]) == (
        "Update_Failed",
        "cannot describe image version",
    )
    _control(app, "reset", {})
    assert sm.list_domains()["Domains"] == []
    assert sm.list_user_profiles()["UserProfiles"] == []


def _control(app, name: str, body: dict) -> dict:
    """A POST to the control API, answered by the application itself."""
    status, _, payload = app.request(
        "POST",
        f"/_sagemaker-images/{name}".encode(),
        b"",
        [(b"host", b"test")],
        json.dumps(body).encode(),
    )
    assert status == 200, payload
    return json.loads(payload)
