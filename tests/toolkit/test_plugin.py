"""The pytest plugin, as a user meets it: their own project, run by pytest in a subprocess
with this package installed, using nothing but the plugin's fixtures."""

from __future__ import annotations

PIPELINE = '''
import boto3

ROLE = "arn:aws:iam::123456789012:role/SageMaker"


def publish(name, base_image):
    """What a user's code does: an image, its first version, wait until both are ready."""
    sm = boto3.client("sagemaker")
    sm.create_image(ImageName=name, RoleArn=ROLE)
    sm.get_waiter("image_created").wait(ImageName=name)
    arn = sm.create_image_version(ImageName=name, BaseImage=base_image)["ImageVersionArn"]
    sm.get_waiter("image_version_created").wait(ImageName=name, Version=1)
    return arn


def retire(name):
    sm = boto3.client("sagemaker")
    sm.delete_image(ImageName=name)
'''

TESTS = """
import pytest
from botocore.exceptions import ClientError

from pipeline import publish, retire


def test_publish_and_retire(sagemaker_images, sagemaker_client):
    arn = publish("team-image", "registry.example/team:1")
    assert arn.endswith(":image-version/team-image/1")
    assert sagemaker_client.describe_image_version(ImageName="team-image")["ImageVersionStatus"] == "CREATED"
    retire("team-image")
    with pytest.raises(ClientError):
        sagemaker_client.describe_image(ImageName="team-image")


def test_each_test_starts_empty(sagemaker_client):
    assert sagemaker_client.list_images()["Images"] == []


def test_a_version_that_fails(sagemaker_images, sagemaker_client):
    sagemaker_client.create_image(ImageName="flaky", RoleArn="arn:aws:iam::123456789012:role/r")
    sagemaker_images.faults(operation="CreateImageVersion", error="ResourceLimitExceeded", count=1)
    with pytest.raises(sagemaker_client.exceptions.ResourceLimitExceeded):
        sagemaker_client.create_image_version(ImageName="flaky", BaseImage="r.example/f:1")
"""


def test_a_users_project_passes_with_the_plugins_fixtures(pytester):
    pytester.makepyfile(pipeline=PIPELINE, test_pipeline=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_plugin_can_use_a_server_running_elsewhere(pytester, tmp_path):
    from sagemaker_images.testing import SageMakerImagesServer

    pytester.makepyfile(pipeline=PIPELINE, test_pipeline=TESTS)
    with SageMakerImagesServer() as elsewhere:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--sagemaker-images-endpoint={elsewhere.endpoint_url}"
        )
        result.assert_outcomes(passed=3)
        # Each test reset it first: what is left is the last test's.
        assert [i["ImageName"] for i in elsewhere.client().list_images()["Images"]] == ["flaky"]
