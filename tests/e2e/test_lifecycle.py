"""boto3 over HTTP against a real server process: the whole life of an image, a version, an
AppImageConfig and their tags, as a user's script would live it (the in-process tier covers
each rule in detail; this shows the real server, uvicorn and HTTP in between, serve them)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from support import ROLE, error_of, image_status, raw_call, version_status, wait_until


def test_an_image_from_creation_to_deletion(server, region):
    sm = server.client(region)
    arn = sm.create_image(ImageName="Lifecycle", RoleArn=ROLE, Tags=[{"Key": "k", "Value": "v"}])[
        "ImageArn"
    ]
    assert sm.describe_image(ImageName="Lifecycle")["ImageStatus"] == "CREATING"
    sm.get_waiter("image_created").wait(ImageName="Lifecycle", WaiterConfig={"Delay": 1})
    version_arn = sm.create_image_version(
        ImageName="Lifecycle", BaseImage="registry.example/life:1", Aliases=["stable"]
    )["ImageVersionArn"]
    assert version_arn == f"arn:aws:sagemaker:{region}:123456789012:image-version/lifecycle/1"
    sm.get_waiter("image_version_created").wait(
        ImageName="Lifecycle", Version=1, WaiterConfig={"Delay": 1}
    )
    described = sm.describe_image_version(ImageName="Lifecycle", Alias="stable")
    assert (described["Version"], described["ContainerImage"]) == (1, "registry.example/life:1")
    sm.update_image_version(ImageName="Lifecycle", Alias="stable", ReleaseNotes="first")
    listed = sm.list_image_versions(ImageName="Lifecycle")["ImageVersions"]
    assert [(v["Version"], v["ImageVersionStatus"]) for v in listed] == [(1, "CREATED")]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    sm.delete_image_version(ImageName="Lifecycle", Version=1)
    wait_until(lambda: version_status(sm, "Lifecycle", 1) is None)
    sm.delete_image(ImageName="Lifecycle")
    wait_until(lambda: image_status(sm, "Lifecycle") is None)
    with pytest.raises(ClientError) as excinfo:
        sm.list_tags(ResourceArn=arn)
    assert error_of(excinfo) == ("ValidationException", "Resource does not exist", 400)


def test_an_app_image_config_and_its_tags(server, region):
    sm = server.client(region)
    kernel = {
        "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3"}],
        "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 0},
    }
    arn = sm.create_app_image_config(AppImageConfigName="kernel", KernelGatewayImageConfig=kernel)[
        "AppImageConfigArn"
    ]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ml"}])
    sm.update_app_image_config(
        AppImageConfigName="kernel",
        JupyterLabAppImageConfig={"ContainerConfig": {"ContainerArguments": ["--debug"]}},
    )
    described = sm.describe_app_image_config(AppImageConfigName="kernel")
    assert described["KernelGatewayImageConfig"] == kernel
    assert described["JupyterLabAppImageConfig"] == {
        "ContainerConfig": {"ContainerArguments": ["--debug"]}
    }
    pages = sm.get_paginator("list_app_image_configs").paginate(PaginationConfig={"PageSize": 1})
    assert [c["AppImageConfigName"] for page in pages for c in page["AppImageConfigs"]] == [
        "kernel"
    ]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []
    sm.delete_app_image_config(AppImageConfigName="kernel")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_app_image_config(AppImageConfigName="kernel")


def test_http_framing(server, region):
    """What uvicorn and the app do at the HTTP level: headers, size limit, other routes."""
    status, headers, body = raw_call(server, "SageMaker.ListImages", {}, region=region)
    assert (status, body) == (200, {"Images": []})
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert len(headers["x-amzn-requestid"]) == 36
    big = json.dumps({"ImageName": "big", "RoleArn": ROLE, "Description": "x" * (1 << 20)})
    status, _, body = raw_call(server, "SageMaker.CreateImage", big, region=region)
    assert status == 413 and "exceeds the limit" in body["message"]
    status, _, body = raw_call(server, None, b"", method="GET", path="/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, _, body = raw_call(server, "SageMaker.ListImages", {}, method="GET", path="/")
    assert (status, body["__type"]) == (405, "UnknownOperationException")


def test_a_served_control_api_holds_transitions_until_completed(make_server, region):
    from sagemaker_images.testing import ControlClient

    server = make_server("--control-api", "--transitions", "manual")
    sm = server.client(region)
    control = ControlClient(server.endpoint)
    assert control.health()["transitions"] == "manual"
    arn = sm.create_image(ImageName="held", RoleArn=ROLE)["ImageArn"]
    assert sm.describe_image(ImageName="held")["ImageStatus"] == "CREATING"
    assert control.complete(arn=arn) == [arn]
    assert sm.describe_image(ImageName="held")["ImageStatus"] == "CREATED"
    control.reset()
    assert sm.list_images()["Images"] == []
