"""Studio domains: create, describe, update (a deep merge), delete and list, with the custom
images their settings attach."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError
from support import ROLE, error_of, wait_until

NETWORK = {"VpcId": "vpc-0abc", "SubnetIds": ["subnet-0abc", "subnet-0def"]}
KERNELS = {"ImageName": "kernels-image", "AppImageConfigName": "kernels"}


@pytest.fixture
def attachable(sm):
    """An image with one version and two AppImageConfigs, to attach."""
    sm.create_image(ImageName="kernels-image", RoleArn=ROLE)
    sm.create_image_version(ImageName="kernels-image", BaseImage="r/kernels:1")
    for name in ("kernels", "lab"):
        sm.create_app_image_config(
            AppImageConfigName=name, KernelGatewayImageConfig={"KernelSpecs": [{"Name": "python3"}]}
        )
    return sm


def create(sm, name: str = "studio", **members):
    members.setdefault("DefaultUserSettings", {"ExecutionRole": ROLE})
    return sm.create_domain(DomainName=name, AuthMode="IAM", **{**NETWORK, **members})


def describe(sm, domain_id: str) -> dict:
    answer = sm.describe_domain(DomainId=domain_id)
    answer.pop("ResponseMetadata")
    return answer


def test_create_answers_a_domain_id_and_describe_echoes_with_aws_defaults(attachable, region):
    sm = attachable
    settings = {
        "ExecutionRole": ROLE,
        "KernelGatewayAppSettings": {"CustomImages": [KERNELS]},
        "JupyterLabAppSettings": {"CustomImages": [{**KERNELS, "ImageVersionNumber": 0}]},
    }
    created = create(sm, DefaultUserSettings=settings)
    domain_id = created["DomainId"]
    assert re.fullmatch(r"d-[a-z0-9]{12}", domain_id)
    assert created["DomainArn"] == f"arn:aws:sagemaker:{region}:123456789012:domain/{domain_id}"
    assert created["Url"] == f"https://{domain_id}.studio.{region}.sagemaker.aws"
    described = describe(sm, domain_id)
    assert described["Status"] == "InService"
    assert described["DefaultUserSettings"] == {**settings, "AutoMountHomeEFS": "Enabled"}
    # Absent stays absent, 0 stays 0: nothing is resolved to a version at attach time.
    assert (
        "ImageVersionNumber"
        not in described["DefaultUserSettings"]["KernelGatewayAppSettings"]["CustomImages"][0]
    )
    assert (described["AppNetworkAccessType"], described["TagPropagation"]) == (
        "PublicInternetOnly",
        "DISABLED",
    )
    assert re.fullmatch(r"fs-[0-9a-f]{17}", described["HomeEfsFileSystemId"])
    assert described["HomeEfsFileSystemCreation"] == "Enabled"
    assert described["SubnetIds"] == NETWORK["SubnetIds"] and described["VpcId"] == "vpc-0abc"
    for invented in (
        "DomainSettings",
        "DefaultSpaceSettings",
        "KmsKeyId",
        "SingleSignOnManagedApplicationInstanceId",
        "SecurityGroupIdForDomainBoundary",
        "FailureReason",
    ):
        assert invented not in described
    assert sm.list_tags(ResourceArn=created["DomainArn"])["Tags"] == []


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({**KERNELS, "ImageName": "nope"}, "Image nope does not exist."),
        ({**KERNELS, "AppImageConfigName": "nope"}, "AppImageConfig nope does not exist."),
        (
            {**KERNELS, "ImageVersionNumber": 9},
            "ImageVersion 9 of Image kernels-image does not exist.",
        ),
    ],
)
def test_custom_images_must_exist(attachable, custom, message):
    sm = attachable
    for settings in (
        {"DefaultUserSettings": {"KernelGatewayAppSettings": {"CustomImages": [custom]}}},
        {"DefaultSpaceSettings": {"JupyterLabAppSettings": {"CustomImages": [KERNELS, custom]}}},
    ):
        with pytest.raises(ClientError) as refused:
            create(sm, **settings)
        assert error_of(refused) == ("ValidationException", message, 400)
    assert sm.list_domains()["Domains"] == []


def test_update_merges_deeply_and_lists_replace(attachable):
    sm = attachable
    domain_id = create(
        sm,
        DefaultUserSettings={
            "ExecutionRole": ROLE,
            "KernelGatewayAppSettings": {
                "CustomImages": [KERNELS],
                "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"},
            },
        },
    )["DomainId"]
    lab = {**KERNELS, "AppImageConfigName": "lab", "ImageVersionNumber": 1}
    sm.update_domain(
        DomainId=domain_id, DefaultUserSettings={"JupyterLabAppSettings": {"CustomImages": [lab]}}
    )
    settings = describe(sm, domain_id)["DefaultUserSettings"]
    assert settings["ExecutionRole"] == ROLE
    assert settings["KernelGatewayAppSettings"]["CustomImages"] == [KERNELS]
    assert settings["JupyterLabAppSettings"] == {"CustomImages": [lab]}
    # A structure sent is merged member by member; a list sent replaces, even when empty.
    sm.update_domain(
        DomainId=domain_id, DefaultUserSettings={"KernelGatewayAppSettings": {"CustomImages": []}}
    )
    kernel = describe(sm, domain_id)["DefaultUserSettings"]["KernelGatewayAppSettings"]
    assert kernel == {"CustomImages": [], "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}
    sm.update_domain(DomainId=domain_id, TagPropagation="ENABLED")
    described = describe(sm, domain_id)
    assert described["TagPropagation"] == "ENABLED"
    assert described["DefaultUserSettings"]["JupyterLabAppSettings"] == {"CustomImages": [lab]}
    assert described["LastModifiedTime"] >= described["CreationTime"]


def test_domain_settings_for_update_merge_into_domain_settings(sm):
    rstudio = {"DomainExecutionRoleArn": ROLE}
    domain_id = create(
        sm,
        DomainSettings={"RStudioServerProDomainSettings": rstudio, "SecurityGroupIds": ["sg-1"]},
        AppSecurityGroupManagement="Service",
    )["DomainId"]
    described = describe(sm, domain_id)
    assert re.fullmatch(r"sg-[0-9a-f]{17}", described["SecurityGroupIdForDomainBoundary"])
    sm.update_domain(
        DomainId=domain_id,
        DomainSettingsForUpdate={
            "RStudioServerProDomainSettingsForUpdate": {
                "DomainExecutionRoleArn": ROLE,
                "RStudioConnectUrl": "https://connect.example",
            }
        },
    )
    assert describe(sm, domain_id)["DomainSettings"] == {
        "RStudioServerProDomainSettings": {
            **rstudio,
            "RStudioConnectUrl": "https://connect.example",
        },
        "SecurityGroupIds": ["sg-1"],
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda sm: sm.create_domain(
                DomainName="x", AuthMode="IAM", DefaultUserSettings={}, VpcId="vpc-1"
            ),
            "VpcId and SubnetIds are required.",
        ),
        (
            lambda sm: create(sm, "x", AppSecurityGroupManagement="Customer"),
            "AppSecurityGroupManagement can only be set for Rstudio enabled domains.",
        ),
        (
            lambda sm: sm.update_domain(
                DomainId=create(sm, "y")["DomainId"], AppNetworkAccessType="VpcOnly"
            ),
            "VpcId and Subnet IDs are required for updating domains to VpcOnly mode.",
        ),
    ],
)
def test_network_rules(sm, call, message):
    with pytest.raises(ClientError) as refused:
        call(sm)
    assert error_of(refused) == ("ValidationException", message, 400)


def test_names_are_unique_and_missing_domains_are_not_found(sm, region):
    domain_id = create(sm, "Studio")["DomainId"]
    with pytest.raises(ClientError) as taken:
        create(sm, "studio")
    arn = f"arn:aws:sagemaker:{region}:123456789012:domain/{domain_id}"
    assert error_of(taken) == ("ResourceInUse", f"Domain {arn} already exists.", 400)
    for call in (
        lambda: sm.describe_domain(DomainId="d-000000000000"),
        lambda: sm.update_domain(DomainId="d-000000000000", TagPropagation="DISABLED"),
        lambda: sm.delete_domain(DomainId="d-000000000000"),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert error_of(missing) == (
            "ResourceNotFound",
            "Domain d-000000000000 does not exist.",
            400,
        )


def test_a_domain_is_deleted_after_its_profiles_and_spaces(paced):
    domain_id = create(paced)["DomainId"]
    wait_until(lambda: describe(paced, domain_id)["Status"] == "InService")
    paced.create_user_profile(DomainId=domain_id, UserProfileName="alice")
    wait_until(
        lambda: (
            paced.describe_user_profile(DomainId=domain_id, UserProfileName="alice")["Status"]
            == "InService"
        )
    )
    with pytest.raises(ClientError) as in_use:
        paced.delete_domain(DomainId=domain_id)
    code, message, _ = error_of(in_use)
    assert code == "ResourceInUse"
    assert message.startswith("Unable to delete Domain [arn:aws:sagemaker:")
    assert message.endswith("because UserProfile(s) or Space(s) are associated with it.")
    paced.delete_user_profile(DomainId=domain_id, UserProfileName="alice")
    wait_until(lambda: not paced.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"])
    paced.delete_domain(DomainId=domain_id)
    assert describe(paced, domain_id)["Status"] == "Deleting"
    with pytest.raises(ClientError) as deleting:
        paced.update_domain(DomainId=domain_id, TagPropagation="ENABLED")
    assert error_of(deleting)[0] == "ResourceInUse"
    wait_until(lambda: not paced.list_domains()["Domains"])
    with pytest.raises(ClientError) as gone:
        paced.describe_domain(DomainId=domain_id)
    assert error_of(gone)[0] == "ResourceNotFound"


def test_a_second_change_waits_for_the_first(slow_server, region):
    sm = slow_server.client(region)
    created = create(sm)
    assert describe(sm, created["DomainId"])["Status"] == "Pending"
    for call in (
        lambda: sm.update_domain(DomainId=created["DomainId"], TagPropagation="ENABLED"),
        lambda: sm.delete_domain(DomainId=created["DomainId"]),
    ):
        with pytest.raises(ClientError) as busy:
            call()
        assert error_of(busy) == (
            "ResourceInUse",
            f"Domain {created['DomainArn']} is in Pending state.",
            400,
        )


def test_list_domains_pages_in_creation_order(sm):
    made = [create(sm, f"studio-{n}")["DomainId"] for n in range(3)]
    first = sm.list_domains(MaxResults=2)
    assert [d["DomainId"] for d in first["Domains"]] == made[:2]
    rest = sm.list_domains(MaxResults=2, NextToken=first["NextToken"])
    assert [d["DomainId"] for d in rest["Domains"]] == made[2:]
    assert "NextToken" not in rest
    listed = first["Domains"][0]
    assert set(listed) == {
        "DomainArn",
        "DomainId",
        "DomainName",
        "Status",
        "CreationTime",
        "LastModifiedTime",
        "Url",
    }


def test_tags_on_a_domain(sm):
    created = create(sm, Tags=[{"Key": "team", "Value": "ml"}])
    arn = created["DomainArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "ml"},
    ]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]


def test_a_domain_made_without_a_home_file_system_gets_one_only_by_an_update(sm):
    domain_id = create(sm, HomeEfsFileSystemCreation="Disabled")["DomainId"]
    described = describe(sm, domain_id)
    assert described["HomeEfsFileSystemCreation"] == "Disabled"
    assert "HomeEfsFileSystemId" not in described
    sm.update_domain(DomainId=domain_id, HomeEfsFileSystemCreation="Enabled")
    described = describe(sm, domain_id)
    assert described["HomeEfsFileSystemCreation"] == "Enabled"
    file_system = described["HomeEfsFileSystemId"]
    assert re.fullmatch(r"fs-[0-9a-f]{17}", file_system)
    with pytest.raises(ClientError) as refused:
        sm.update_domain(DomainId=domain_id, HomeEfsFileSystemCreation="Disabled")
    assert error_of(refused) == (
        "ValidationException",
        f"HomeEfsFileSystemCreation of domain {domain_id} cannot be changed from Enabled to"
        " Disabled.",
        400,
    )
    sm.update_domain(DomainId=domain_id, HomeEfsFileSystemCreation="Enabled")  # no change
    assert describe(sm, domain_id)["HomeEfsFileSystemId"] == file_system


def test_delete_takes_a_retention_policy_and_checks_it(sm, server, region):
    domain_id = create(sm)["DomainId"]
    status, _, body = server.raw(
        "SageMaker.DeleteDomain",
        {"DomainId": domain_id, "RetentionPolicy": {"HomeEfsFileSystem": "Keep"}},
        region=region,
    )
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must satisfy enum value set: [Retain, Delete]" in body["message"]
    assert describe(sm, domain_id)["Status"] == "InService"
    sm.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    assert sm.list_domains()["Domains"] == []


def test_a_custom_file_system_is_one_of_its_kinds(server, region):
    # botocore refuses such a request itself: sent raw, the server refuses it as well.
    both = {
        "EFSFileSystemConfig": {"FileSystemId": "fs-0123456789abcdef0"},
        "S3FileSystemConfig": {"S3Uri": "s3://bucket/path"},
    }
    status, _, body = server.raw(
        "SageMaker.CreateDomain",
        {
            "DomainName": "files",
            "AuthMode": "IAM",
            "DefaultUserSettings": {"ExecutionRole": ROLE, "CustomFileSystemConfigs": [both]},
            **NETWORK,
        },
        region=region,
    )
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "'defaultUserSettings.customFileSystemConfigs.1.member'" in body["message"]
    assert "Member must have exactly one of [EFSFileSystemConfig" in body["message"]


def test_single_sign_on_domains(sm, region):
    created = sm.create_domain(
        DomainName="sso", AuthMode="SSO", DefaultUserSettings={"ExecutionRole": ROLE}, **NETWORK
    )
    described = describe(sm, created["DomainId"])
    assert re.fullmatch(r"ins-[0-9a-f]{16}", described["SingleSignOnManagedApplicationInstanceId"])
    assert described["SingleSignOnApplicationArn"].startswith("arn:aws:sso::123456789012:")
    with pytest.raises(ClientError) as refused:
        sm.create_user_profile(DomainId=created["DomainId"], UserProfileName="alice")
    assert error_of(refused)[0] == "ValidationException"
    sm.create_user_profile(
        DomainId=created["DomainId"],
        UserProfileName="alice",
        SingleSignOnUserIdentifier="UserName",
        SingleSignOnUserValue="alice@example.com",
    )
    iam = create(sm, "iam")["DomainId"]
    with pytest.raises(ClientError) as not_sso:
        sm.create_user_profile(
            DomainId=iam,
            UserProfileName="bob",
            SingleSignOnUserIdentifier="UserName",
            SingleSignOnUserValue="bob",
        )
    assert error_of(not_sso) == (
        "ValidationException",
        "SingleSignOnUserIdentifier can only be specified for a domain whose AuthMode is SSO.",
        400,
    )


def test_domain_quota(make_app, region):
    sm = make_app(max_domains=1, transitions="immediate").client(region)
    create(sm, "one")
    with pytest.raises(ClientError) as refused:
        create(sm, "two")
    code, message, _ = error_of(refused)
    assert code == "ResourceLimitExceeded"
    assert "'Maximum number of domains per Region' is 1 Domains" in message
