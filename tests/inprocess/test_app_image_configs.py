"""AppImageConfigs: synchronous create/describe/update/delete/list with every config member."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from support import error_of

KERNEL_GATEWAY = {
    "KernelSpecs": [
        {"Name": "python3", "DisplayName": "Python 3 (custom)"},
        {"Name": "ir"},
    ],
    "FileSystemConfig": {
        "MountPath": "/home/sagemaker-user",
        "DefaultUid": 1000,
        "DefaultGid": 100,
    },
}
JUPYTER_LAB = {
    "FileSystemConfig": {"MountPath": "/home/jovyan", "DefaultUid": 0, "DefaultGid": 0},
    "ContainerConfig": {
        "ContainerArguments": ["--ServerApp.base_url", "/jupyterlab/default"],
        "ContainerEntrypoint": ["jupyter-lab"],
        "ContainerEnvironmentVariables": {"STAGE": "dev", "EMPTY": ""},
    },
}
CODE_EDITOR = {
    "ContainerConfig": {"ContainerEntrypoint": ["code-server"], "ContainerArguments": ["--x"]}
}


def test_create_and_describe_echo_every_member(sm):
    before = time.time()
    arn = sm.create_app_image_config(
        AppImageConfigName="My-Config",
        KernelGatewayImageConfig=KERNEL_GATEWAY,
        JupyterLabAppImageConfig=JUPYTER_LAB,
        CodeEditorAppImageConfig=CODE_EDITOR,
    )["AppImageConfigArn"]
    region = sm.meta.region_name
    assert arn == f"arn:aws:sagemaker:{region}:123456789012:app-image-config/my-config"

    described = sm.describe_app_image_config(AppImageConfigName="my-config")
    assert described["AppImageConfigArn"] == arn
    assert described["AppImageConfigName"] == "My-Config"
    assert described["KernelGatewayImageConfig"] == KERNEL_GATEWAY
    assert described["JupyterLabAppImageConfig"] == JUPYTER_LAB
    assert described["CodeEditorAppImageConfig"] == CODE_EDITOR
    created = described["CreationTime"].timestamp()
    assert before - 1 <= created <= time.time() + 1
    assert described["LastModifiedTime"] == described["CreationTime"]


def test_describe_invents_no_defaults(sm):
    sm.create_app_image_config(AppImageConfigName="bare")
    described = sm.describe_app_image_config(AppImageConfigName="bare")
    for member in (
        "KernelGatewayImageConfig",
        "JupyterLabAppImageConfig",
        "CodeEditorAppImageConfig",
    ):
        assert member not in described

    sm.create_app_image_config(
        AppImageConfigName="kernel-only", KernelGatewayImageConfig={"KernelSpecs": [{"Name": "k"}]}
    )
    described = sm.describe_app_image_config(AppImageConfigName="kernel-only")
    assert described["KernelGatewayImageConfig"] == {"KernelSpecs": [{"Name": "k"}]}


def test_names_are_unique_case_insensitively(sm):
    sm.create_app_image_config(AppImageConfigName="taken")
    with pytest.raises(sm.exceptions.ResourceInUse) as excinfo:
        sm.create_app_image_config(AppImageConfigName="TAKEN")
    assert error_of(excinfo) == (
        "ResourceInUse",
        "The ID or Name specified is already in use.",
        400,
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda sm: sm.describe_app_image_config(AppImageConfigName="nothing-here"),
        lambda sm: sm.update_app_image_config(AppImageConfigName="nothing-here"),
        lambda sm: sm.delete_app_image_config(AppImageConfigName="nothing-here"),
    ],
)
def test_missing_config_is_not_found(sm, call):
    with pytest.raises(sm.exceptions.ResourceNotFound) as excinfo:
        call(sm)
    code, message, status = error_of(excinfo)
    region = sm.meta.region_name
    assert (code, status) == ("ResourceNotFound", 400)
    assert message == (
        f"AppImageConfig with ARN arn:aws:sagemaker:{region}:123456789012:"
        "app-image-config/nothing-here does not exist"
    )


def test_update_replaces_what_it_is_sent_and_keeps_the_rest(sm):
    sm.create_app_image_config(
        AppImageConfigName="cfg",
        KernelGatewayImageConfig=KERNEL_GATEWAY,
        JupyterLabAppImageConfig=JUPYTER_LAB,
    )
    first = sm.describe_app_image_config(AppImageConfigName="cfg")
    time.sleep(0.01)
    new_kernel = {"KernelSpecs": [{"Name": "python3", "DisplayName": "Renamed"}]}
    arn = sm.update_app_image_config(
        AppImageConfigName="CFG",
        KernelGatewayImageConfig=new_kernel,
        CodeEditorAppImageConfig=CODE_EDITOR,
    )["AppImageConfigArn"]
    assert arn == first["AppImageConfigArn"]
    after = sm.describe_app_image_config(AppImageConfigName="cfg")
    assert after["KernelGatewayImageConfig"] == new_kernel  # replaced whole, not merged
    assert after["JupyterLabAppImageConfig"] == JUPYTER_LAB  # not sent: kept
    assert after["CodeEditorAppImageConfig"] == CODE_EDITOR  # newly added
    assert after["CreationTime"] == first["CreationTime"]
    assert after["LastModifiedTime"] > first["LastModifiedTime"]


def test_delete_is_synchronous_and_frees_the_name(sm):
    sm.create_app_image_config(AppImageConfigName="short-lived")
    assert (
        sm.delete_app_image_config(AppImageConfigName="short-lived")["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 200
    )
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_app_image_config(AppImageConfigName="short-lived")
    sm.create_app_image_config(AppImageConfigName="short-lived")
    assert sm.list_app_image_configs()["AppImageConfigs"][0]["AppImageConfigName"] == "short-lived"


def _names(sm, **kwargs):
    paginator = sm.get_paginator("list_app_image_configs")
    return [
        config["AppImageConfigName"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 2}, **kwargs)
        for config in page["AppImageConfigs"]
    ]


def test_list_sorts_filters_and_pages(make_app, region):
    now = [1_767_225_600_000]  # a whole second: creates 5 ms apart, within it
    sm = make_app(transitions="immediate", clock=lambda: now[0]).client(region)
    names = ["cfg-c", "CFG-a", "other-b", "cfg-e", "cfg-d"]
    for name in names:
        sm.create_app_image_config(AppImageConfigName=name, JupyterLabAppImageConfig=JUPYTER_LAB)
        now[0] += 5
    # Clients send time filters in whole seconds: modify in a later second than any create.
    now[0] += 1_000
    sm.update_app_image_config(AppImageConfigName="cfg-c", CodeEditorAppImageConfig=CODE_EDITOR)

    first_page = sm.list_app_image_configs(MaxResults=2)
    assert len(first_page["AppImageConfigs"]) == 2 and "NextToken" in first_page
    item = first_page["AppImageConfigs"][0]
    assert item["AppImageConfigName"] == "cfg-d"  # default: CreationTime, Descending
    assert item["JupyterLabAppImageConfig"] == JUPYTER_LAB
    assert set(item) >= {"AppImageConfigArn", "CreationTime", "LastModifiedTime"}

    assert _names(sm) == list(reversed(names))
    assert _names(sm, SortBy="CreationTime", SortOrder="Ascending") == names
    assert _names(sm, SortBy="Name", SortOrder="Ascending") == [
        "CFG-a",
        "cfg-c",
        "cfg-d",
        "cfg-e",
        "other-b",
    ]
    assert _names(sm, SortBy="Name", SortOrder="Descending") == [
        "other-b",
        "cfg-e",
        "cfg-d",
        "cfg-c",
        "CFG-a",
    ]
    assert _names(sm, SortBy="LastModifiedTime")[0] == "cfg-c"
    assert _names(sm, NameContains="CFG", SortBy="Name", SortOrder="Ascending") == [
        "CFG-a",
        "cfg-c",
        "cfg-d",
        "cfg-e",
    ]

    updated = sm.describe_app_image_config(AppImageConfigName="cfg-c")["LastModifiedTime"]
    assert _names(sm, ModifiedTimeAfter=updated) == ["cfg-c"]
    assert _names(sm, CreationTimeBefore=updated) == list(reversed(names))
    assert _names(sm, CreationTimeAfter=updated) == []
    assert _names(sm, ModifiedTimeBefore=updated - timedelta(seconds=10)) == []
    last = sm.list_app_image_configs(MaxResults=100)
    assert "NextToken" not in last and len(last["AppImageConfigs"]) == 5


def test_list_token_is_bound_to_its_query(sm):
    for name in ("t-1", "t-2", "t-3"):
        sm.create_app_image_config(AppImageConfigName=name)
    token = sm.list_app_image_configs(MaxResults=1)["NextToken"]
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_app_image_configs(MaxResults=1, NextToken=token, SortBy="Name")
    assert error_of(excinfo) == ("ValidationException", "Invalid pagination token", 400)


def test_list_rejects_the_image_spelling_of_sort_keys(sm):
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_app_image_configs(SortBy="CREATION_TIME")
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "Member must satisfy enum value set: [CreationTime, LastModifiedTime, Name]" in message


def test_invalid_configs_are_refused_with_every_violation_and_nothing_written(sm):
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.create_app_image_config(
            AppImageConfigName="bad.name",
            KernelGatewayImageConfig={
                "KernelSpecs": [{"Name": f"k{i}"} for i in range(6)],
                "FileSystemConfig": {"MountPath": "relative", "DefaultUid": 70000},
            },
            JupyterLabAppImageConfig={
                "ContainerConfig": {"ContainerEntrypoint": ["a", "b"], "ContainerArguments": [" "]}
            },
        )
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("6 validation errors detected: ")
    for needle in (
        "Value 'bad.name' at 'appImageConfigName' failed to satisfy constraint: Member must"
        " satisfy regular expression pattern",
        "at 'kernelGatewayImageConfig.kernelSpecs' failed to satisfy constraint: Member must"
        " have length less than or equal to 5",
        "Value 'relative' at 'kernelGatewayImageConfig.fileSystemConfig.mountPath'",
        "Value '70000' at 'kernelGatewayImageConfig.fileSystemConfig.defaultUid' failed to"
        " satisfy constraint: Member must have value less than or equal to 65535",
        "at 'jupyterLabAppImageConfig.containerConfig.containerEntrypoint' failed to satisfy"
        " constraint: Member must have length less than or equal to 1",
        "at 'jupyterLabAppImageConfig.containerConfig.containerArguments.1.member'",
    ):
        assert needle in message
    assert sm.list_app_image_configs()["AppImageConfigs"] == []
