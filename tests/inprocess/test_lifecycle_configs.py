"""Studio lifecycle configs: immutable scripts, attached by settings, refused while in use."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError
from support import ROLE, error_of, raw_call

CONTENT = "ZWNobyBIZWxsbw=="  # base64 of "echo Hello"
NETWORK = {"VpcId": "vpc-0abc", "SubnetIds": ["subnet-0abc"]}


def make_config(sm, name: str, app_type: str = "JupyterServer", **extra) -> str:
    return sm.create_studio_lifecycle_config(
        StudioLifecycleConfigName=name,
        StudioLifecycleConfigContent=CONTENT,
        StudioLifecycleConfigAppType=app_type,
        **extra,
    )["StudioLifecycleConfigArn"]


def make_domain(sm, **settings) -> str:
    return sm.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE, **settings},
        **NETWORK,
    )["DomainId"]


def test_a_config_is_made_and_read_back_as_it_was_given(sm, region):
    arn = make_config(sm, "On-Start")
    assert arn == f"arn:aws:sagemaker:{region}:123456789012:studio-lifecycle-config/on-start"
    described = sm.describe_studio_lifecycle_config(StudioLifecycleConfigName="on-start")
    described.pop("ResponseMetadata")
    assert described == {
        "StudioLifecycleConfigArn": arn,
        "StudioLifecycleConfigName": "On-Start",
        "CreationTime": described["CreationTime"],
        "LastModifiedTime": described["CreationTime"],  # immutable: never modified
        "StudioLifecycleConfigContent": CONTENT,
        "StudioLifecycleConfigAppType": "JupyterServer",
    }
    with pytest.raises(ClientError) as taken:
        make_config(sm, "ON-START", "KernelGateway")
    assert error_of(taken) == (
        "ResourceInUse",
        f"Studio Lifecycle Config {arn} already exists.",
        400,
    )
    unchanged = sm.describe_studio_lifecycle_config(StudioLifecycleConfigName="On-Start")
    assert unchanged["StudioLifecycleConfigAppType"] == "JupyterServer"


def test_content_is_kept_byte_for_byte_up_to_its_limit(sm):
    script = "#!/bin/bash\n" + "é" * 16_372  # 16,384 characters, not base64
    make_config(sm, "long", Tags=[{"Key": "a", "Value": "b"}])
    sm.delete_studio_lifecycle_config(StudioLifecycleConfigName="long")
    make_config(sm, "long-2")
    sm.create_studio_lifecycle_config(
        StudioLifecycleConfigName="script",
        StudioLifecycleConfigContent=script,
        StudioLifecycleConfigAppType="CodeEditor",
    )
    got = sm.describe_studio_lifecycle_config(StudioLifecycleConfigName="script")
    assert got["StudioLifecycleConfigContent"] == script


def test_bad_configs_are_refused_naming_each_violation(sm, server, region):
    with pytest.raises(ClientError) as refused:
        sm.create_studio_lifecycle_config(
            StudioLifecycleConfigName="bad_name",
            StudioLifecycleConfigContent="x" * 16_385,
            StudioLifecycleConfigAppType="RStudioServerPro",
            Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)],
        )
    code, message, status = error_of(refused)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("4 validation errors detected: ")
    for needle in (
        "'bad_name' at 'studioLifecycleConfigName' failed to satisfy constraint: Member must"
        " satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        "at 'studioLifecycleConfigContent' failed to satisfy constraint: Member must have"
        " length less than or equal to 16384",
        "'RStudioServerPro' at 'studioLifecycleConfigAppType' failed to satisfy constraint:"
        " Member must satisfy enum value set: [JupyterServer, KernelGateway, CodeEditor,"
        " JupyterLab]",
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
    ):
        assert needle in message
    status, _, body = raw_call(
        server,
        "SageMaker.CreateStudioLifecycleConfig",
        {
            "StudioLifecycleConfigName": "empty",
            "StudioLifecycleConfigContent": "",
            "StudioLifecycleConfigAppType": "JupyterLab",
        },
        region=region,
    )  # (botocore refuses it before sending)
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must have length greater than or equal to 1" in body["message"]
    assert sm.list_studio_lifecycle_configs()["StudioLifecycleConfigs"] == []


def test_listing_sorts_filters_and_pages(make_app, region):
    now = [1_700_000_000_000]
    sm = make_app(clock=lambda: now[0]).client(region)
    for name, app_type in (
        ("beta", "KernelGateway"),
        ("Alpha", "JupyterLab"),
        ("gamma", "KernelGateway"),
    ):
        make_config(sm, name, app_type)
        now[0] += 1000

    def names(**request) -> list[str]:
        found = sm.list_studio_lifecycle_configs(**request)["StudioLifecycleConfigs"]
        return [c["StudioLifecycleConfigName"] for c in found]

    assert names() == ["gamma", "Alpha", "beta"]  # newest first
    assert names(SortBy="Name", SortOrder="Ascending") == ["Alpha", "beta", "gamma"]
    assert names(NameContains="ALP") == ["Alpha"]
    assert names(AppTypeEquals="KernelGateway") == ["gamma", "beta"]
    second = datetime.datetime.fromtimestamp(1_700_000_001, datetime.UTC)
    assert names(CreationTimeAfter=second) == ["gamma", "Alpha"]  # inclusive
    assert names(CreationTimeBefore=second) == ["Alpha", "beta"]
    assert names(ModifiedTimeAfter=second, ModifiedTimeBefore=second) == ["Alpha"]
    listed = sm.list_studio_lifecycle_configs(MaxResults=1)["StudioLifecycleConfigs"][0]
    assert set(listed) == {
        "StudioLifecycleConfigArn",
        "StudioLifecycleConfigName",
        "CreationTime",
        "LastModifiedTime",
        "StudioLifecycleConfigAppType",
    }
    pages = sm.get_paginator("list_studio_lifecycle_configs").paginate(
        SortBy="Name", PaginationConfig={"PageSize": 1}
    )
    seen = [c["StudioLifecycleConfigName"] for p in pages for c in p["StudioLifecycleConfigs"]]
    assert seen == ["gamma", "beta", "Alpha"]


def test_unknown_configs_are_not_found(sm, region):
    arn = f"arn:aws:sagemaker:{region}:123456789012:studio-lifecycle-config/nothing"
    for call in (sm.describe_studio_lifecycle_config, sm.delete_studio_lifecycle_config):
        with pytest.raises(ClientError) as missing:
            call(StudioLifecycleConfigName="nothing")
        assert error_of(missing) == (
            "ResourceNotFound",
            f"Studio Lifecycle Config {arn} does not exist.",
            400,
        )


def test_a_config_named_by_settings_cannot_be_deleted_until_detached(sm):
    arn = make_config(sm, "on-start")
    domain_id = make_domain(sm, JupyterServerAppSettings={"LifecycleConfigArns": [arn]})
    domain_arn = sm.describe_domain(DomainId=domain_id)["DomainArn"]
    with pytest.raises(ClientError) as held:
        sm.delete_studio_lifecycle_config(StudioLifecycleConfigName="on-start")
    assert error_of(held) == (
        "ResourceInUse",
        f"Unable to delete Studio Lifecycle Config [{arn}] because it is in use by Domain"
        f" [{domain_arn}].",
        400,
    )
    sm.update_domain(
        DomainId=domain_id,
        DefaultUserSettings={"JupyterServerAppSettings": {"LifecycleConfigArns": []}},
    )
    sm.delete_studio_lifecycle_config(StudioLifecycleConfigName="on-start")


def test_settings_may_name_only_configs_of_their_app_type(sm, region):
    server_config = make_config(sm, "server")
    kernel_config = make_config(sm, "kernels", "KernelGateway")
    domain_id = make_domain(sm)

    def refused(settings) -> str:
        with pytest.raises(ClientError) as refusal:
            sm.create_user_profile(
                DomainId=domain_id, UserProfileName="alice", UserSettings=settings
            )
        code, message, _ = error_of(refusal)
        assert code == "ValidationException"
        return message

    assert refused({"KernelGatewayAppSettings": {"LifecycleConfigArns": [server_config]}}) == (
        f"Studio Lifecycle Config {server_config} has app type JupyterServer;"
        " KernelGatewayAppSettings.LifecycleConfigArns requires KernelGateway."
    )
    unknown = f"arn:aws:sagemaker:{region}:123456789012:studio-lifecycle-config/nothing"
    assert refused({"KernelGatewayAppSettings": {"LifecycleConfigArns": [unknown]}}) == (
        f"Studio Lifecycle Config {unknown} does not exist."
    )
    assert "TensorBoardAppSettings.DefaultResourceSpec.LifecycleConfigArn requires none" in refused(
        {"TensorBoardAppSettings": {"DefaultResourceSpec": {"LifecycleConfigArn": kernel_config}}}
    )
    assert sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"] == []
    # The default need not be in the list (AWS accepts it; the app fails at launch).
    sm.create_user_profile(
        DomainId=domain_id,
        UserProfileName="alice",
        UserSettings={
            "KernelGatewayAppSettings": {
                "DefaultResourceSpec": {"LifecycleConfigArn": kernel_config},
                "LifecycleConfigArns": [],
            }
        },
    )


def test_tags_come_and_go_with_the_config(sm):
    arn = make_config(sm, "tagged", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "c", "Value": "3"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "b", "Value": "2"},
        {"Key": "c", "Value": "3"},
    ]
    sm.delete_studio_lifecycle_config(StudioLifecycleConfigName="tagged")
    assert make_config(sm, "tagged") == arn
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []
