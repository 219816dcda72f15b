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


APP_TESTS = """
import pytest


@pytest.mark.sagemaker_images(transitions="manual")
def test_an_app_whose_launch_fails(sagemaker_images, sagemaker_client):
    sm = sagemaker_client
    domain_id = sm.create_domain(
        DomainName="studio", AuthMode="IAM", VpcId="vpc-1", SubnetIds=["subnet-1"],
        DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/r"},
    )["DomainId"]
    sagemaker_images.complete()
    sm.create_user_profile(DomainId=domain_id, UserProfileName="alice")
    sagemaker_images.complete()
    app = {"DomainId": domain_id, "UserProfileName": "alice", "AppType": "JupyterServer",
           "AppName": "default"}
    arn = sm.create_app(**app)["AppArn"]
    assert sm.describe_app(**app)["Status"] == "Pending"
    assert sagemaker_images.complete(arn, fail="No capacity for ml.t3.medium.") == [arn]
    described = sm.describe_app(**app)
    assert (described["Status"], described["FailureReason"]) == (
        "Failed", "No capacity for ml.t3.medium.")
"""


EVENT_TESTS = """
from pipeline import publish

VERSION_CHANGE = "SageMaker Image Version State Change"


def test_my_step_runs_when_the_version_is_created(sagemaker_events):
    publish("evented", "registry.example/e:1")
    created = [
        e for e in sagemaker_events(VERSION_CHANGE)
        if e["detail"]["ImageVersionStatus"] == "CREATED"
    ]
    assert [e["resources"] for e in created] == [
        ["arn:aws:sagemaker:us-east-1:123456789012:image-version/evented/1"]
    ]
    statuses = [e["detail"].get("ImageStatus") or e["detail"]["ImageVersionStatus"]
                for e in sagemaker_events()]
    assert statuses == ["CREATING", "CREATED", "CREATING", "CREATED"]


def test_each_test_sees_its_own_events(sagemaker_events):
    assert sagemaker_events() == []
"""


def test_a_users_project_passes_with_the_plugins_fixtures(pytester):
    pytester.makepyfile(pipeline=PIPELINE, test_pipeline=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_events_fixture_answers_the_events_a_test_caused(pytester):
    pytester.makepyfile(pipeline=PIPELINE, test_events=EVENT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_plugin_holds_an_apps_launch_and_fails_it(pytester):
    pytester.makepyfile(test_apps=APP_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


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


CONFIGURED = """
import logging
import random
import re
import time

import boto3
import pytest


def test_the_ini_files_settings(sagemaker_images, sagemaker_client):
    arn = sagemaker_client.create_image(ImageName="held", RoleArn="arn:aws:iam::111122223333:role/r")["ImageArn"]
    assert arn == "arn:aws:sagemaker:eu-west-1:111122223333:image/held"
    assert boto3.client("sagemaker").list_images()["Images"][0]["ImageStatus"] == "CREATING"
    assert sagemaker_images.complete(arn) == [arn]
    assert sagemaker_client.describe_image(ImageName="held")["ImageStatus"] == "CREATED"


@pytest.mark.sagemaker_images(
    transitions="immediate",
    region="ap-south-1",
    retry_waits=0,
    faults=[{"operation": "ListImages", "error": "ThrottlingException", "count": 2}],
)
def test_a_markers_settings(sagemaker_client, caplog):
    caplog.set_level(logging.DEBUG, logger="botocore.endpoint")
    random.seed(5)  # botocore draws its waits at random: seeded, over a second in all
    started = time.monotonic()
    assert sagemaker_client.list_images()["Images"] == []  # after 2 throttled tries
    took = time.monotonic() - started
    asked = [float(m) for m in re.findall(r"sleeping for ([0-9.]+) seconds", caplog.text)]
    assert len(asked) == 2 and sum(asked) > 1, asked
    assert took < sum(asked) / 2  # not waited: scaled to nothing
    arn = sagemaker_client.create_image(ImageName="now", RoleArn="arn:aws:iam::111122223333:role/r")["ImageArn"]
    assert arn.startswith("arn:aws:sagemaker:ap-south-1:111122223333:")
    assert sagemaker_client.describe_image(ImageName="now")["ImageStatus"] == "CREATED"
"""


def test_the_fixtures_take_their_settings_from_the_ini_file_and_a_marker(pytester):
    pytester.makeini(
        "[pytest]\n"
        "sagemaker_images_transitions = manual\n"
        "sagemaker_images_account = 111122223333\n"
        "sagemaker_images_region = eu-west-1\n"
    )
    pytester.makepyfile(test_configured=CONFIGURED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_every_fixture_says_what_it_is(pytester):
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    shown = result.stdout.str()
    fixtures = (
        "sagemaker_images_server",
        "sagemaker_images",
        "sagemaker_client",
        "sagemaker_events",
    )
    for fixture in fixtures:
        block = shown[shown.index(f"{fixture} ") :].split("\n\n")[0]
        assert "no docstring available" not in block, block


def test_a_server_without_the_control_api_is_named_so(pytester, tmp_path):
    from support import ServerProcess

    pytester.makepyfile(test_pipeline=TESTS, pipeline=PIPELINE)
    with ServerProcess(tmp_path).start() as plain:  # no --control-api
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--sagemaker-images-endpoint={plain.endpoint}"
        )
    result.stdout.fnmatch_lines(
        [
            f"*the server at {plain.endpoint} does not serve the control API: start it with"
            " `sagemaker-images serve --control-api`*"
        ]
    )
