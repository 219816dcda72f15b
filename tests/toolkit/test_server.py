"""SageMakerImagesServer: the real server in-process, for users' tests, with its control API."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from auth_support import ACCOUNT_A, ACCOUNT_B, ALL_KEYS, KEY_A, KEY_B, write_credentials
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError
from support import ROLE, error_of, fresh_database, image_status, version_status

from sagemaker_images.testing import ControlError, SageMakerImagesServer

ONCE = {"Delay": 0.05, "MaxAttempts": 1}  # a waiter that looks once: does not sleep on


@pytest.fixture(scope="module")
def server():
    with SageMakerImagesServer() as running:
        yield running


@pytest.fixture
def sm(server):
    server.reset()
    return server.client()


@pytest.fixture
def manual():
    with SageMakerImagesServer(transitions="manual") as running:
        yield running


def test_a_private_catalog_lives_as_long_as_the_server():
    with SageMakerImagesServer() as server:
        database = Path(server.settings.database_url.removeprefix("sqlite:///"))
        assert database.exists()
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        assert server.client().list_images()["Images"] == []
    assert not database.parent.exists()


def test_any_database_url(backend, databases, tmp_path):
    url = fresh_database(backend, databases, tmp_path)
    with SageMakerImagesServer(database=url, account_id="210987654321") as server:
        arn = server.client().create_image(ImageName="kept", RoleArn=ROLE)["ImageArn"]
        assert ":210987654321:image/kept" in arn
    with SageMakerImagesServer(database=url, account_id="210987654321") as again:
        assert again.client().describe_image(ImageName="kept")["ImageStatus"] == "CREATED"


def test_immediate_transitions_end_before_the_call_answers(sm):
    sm.create_image(ImageName="now", RoleArn=ROLE)
    sm.get_waiter("image_created").wait(ImageName="now", WaiterConfig=ONCE)
    sm.create_image_version(ImageName="now", BaseImage="registry.example/now:1")
    sm.get_waiter("image_version_created").wait(ImageName="now", Version=1, WaiterConfig=ONCE)
    sm.update_image(ImageName="now", Description="updated")
    assert sm.describe_image(ImageName="now")["ImageStatus"] == "CREATED"
    sm.delete_image(ImageName="now")
    assert image_status(sm, "now") is None


def test_manual_transitions_end_when_completed(manual):
    sm = manual.client()
    image = sm.create_image(ImageName="held", RoleArn=ROLE)["ImageArn"]
    with pytest.raises(WaiterError):
        sm.get_waiter("image_created").wait(ImageName="held", WaiterConfig=ONCE)
    assert manual.complete() == [image]
    sm.get_waiter("image_created").wait(ImageName="held", WaiterConfig=ONCE)

    # A waiter blocks until the test completes the transition it waits for.
    version = sm.create_image_version(ImageName="held", BaseImage="r.example/held:1")[
        "ImageVersionArn"
    ]
    outcome: list[object] = []
    waiter = threading.Thread(
        target=lambda: outcome.append(
            sm.get_waiter("image_version_created").wait(
                ImageName="held", Version=1, WaiterConfig={"Delay": 0.05, "MaxAttempts": 400}
            )
        )
    )
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive() and version_status(sm, "held", 1) == "CREATING"
    assert manual.complete(arn=version) == [version]
    waiter.join(20)
    assert outcome == [None]

    # Completed as a failure: the waiter fails, Describe tells why.
    sm.create_image_version(ImageName="held", BaseImage="r.example/held:2")
    assert manual.complete(fail="The image could not be pulled.") == [version.replace("/1", "/2")]
    with pytest.raises(WaiterError, match="failure state"):
        sm.get_waiter("image_version_created").wait(ImageName="held", Version=2, WaiterConfig=ONCE)
    failed = sm.describe_image_version(ImageName="held", Version=2)
    assert (failed["ImageVersionStatus"], failed["FailureReason"]) == (
        "CREATE_FAILED",
        "The image could not be pulled.",
    )

    # Updates and deletes fail as AWS names it.
    sm.update_image(ImageName="held", Description="d")
    manual.complete(arn=image, fail="Role is not assumable.")
    described = sm.describe_image(ImageName="held")
    assert (described["ImageStatus"], described["FailureReason"]) == (
        "UPDATE_FAILED",
        "Role is not assumable.",
    )
    sm.delete_image_version(ImageName="held", Version=1)
    manual.complete(fail="Still in use.")
    assert version_status(sm, "held", 1) == "DELETE_FAILED"


def test_completing_what_is_not_in_transition_is_refused(manual):
    sm = manual.client()
    sm.create_image(ImageName="done", RoleArn=ROLE)
    manual.complete()
    for arn, why in (
        ("arn:aws:sagemaker:us-east-1:123456789012:image/done", "has no transition in progress"),
        ("arn:aws:sagemaker:us-east-1:123456789012:image/ghost", "no image has the ARN"),
        ("arn:aws:sagemaker:us-east-1:123456789012:image-version/done/9", "no image version"),
        ("arn:aws:sagemaker:us-east-1:123456789012:app-image-config/x", "is not the ARN of"),
    ):
        with pytest.raises(ControlError, match=why):
            manual.complete(arn=arn)
    with pytest.raises(ControlError, match="fail must be a FailureReason"):
        manual.complete(fail="")
    assert manual.complete() == []


def test_reset_empties_the_catalog_and_numbers_start_again(server, sm):
    sm.create_image(ImageName="numbered", RoleArn=ROLE)
    for _ in range(3):
        sm.create_image_version(ImageName="numbered", BaseImage="r.example/n:1")
    config = sm.create_app_image_config(AppImageConfigName="cfg")["AppImageConfigArn"]
    sm.add_tags(ResourceArn=config, Tags=[{"Key": "k", "Value": "v"}])
    server.faults(operation="ListImages", error="ThrottlingException")
    server.reset()
    assert server.faults() == []
    assert sm.list_images()["Images"] == []
    assert sm.list_app_image_configs()["AppImageConfigs"] == []
    sm.create_image(ImageName="numbered", RoleArn=ROLE)
    arn = sm.create_image_version(ImageName="numbered", BaseImage="r.example/n:1")
    assert arn["ImageVersionArn"].endswith("/numbered/1")


def test_reset_of_one_account(tmp_path):
    credentials = write_credentials(tmp_path / "keys.toml", ALL_KEYS)
    with SageMakerImagesServer(credentials_file=str(credentials)) as server:
        server.use_keys(KEY_A.access_key_id, KEY_A.secret_access_key)
        a = server.client()
        b = server.client(
            aws_access_key_id=KEY_B.access_key_id, aws_secret_access_key=KEY_B.secret_access_key
        )
        a.create_image(ImageName="of-a", RoleArn=ROLE)
        b.create_image(ImageName="of-b", RoleArn=ROLE)
        server.reset(account=ACCOUNT_B)
        assert [i["ImageName"] for i in a.list_images()["Images"]] == ["of-a"]
        assert b.list_images()["Images"] == []
        assert ACCOUNT_A != ACCOUNT_B


def test_the_control_api_wants_signatures_when_the_server_does(tmp_path):
    credentials = write_credentials(tmp_path / "keys.toml", ALL_KEYS)
    with SageMakerImagesServer(credentials_file=str(credentials)) as server:
        from sagemaker_images.testing import ControlClient

        with pytest.raises(ControlError, match="403 Missing Authentication Token"):
            ControlClient(server.endpoint_url).health()
        with pytest.raises(ControlError, match="400 The security token"):
            ControlClient(
                server.endpoint_url, access_key_id="AKIDNOBODY", secret_access_key="x"
            ).health()
        server.use_keys(KEY_A.access_key_id, KEY_A.secret_access_key)
        assert server.control.health()["status"] == "ok"


# -- faults ----------------------------------------------------------------------------------


def retrying(server, attempts=3):
    return server.client(config=Config(retries={"mode": "standard", "max_attempts": attempts}))


def test_throttling_is_retried_away_by_the_standard_retry_mode(server, sm):
    sm.create_image(ImageName="listed", RoleArn=ROLE)
    server.faults(operation="ListImages", error="ThrottlingException", count=2)
    answer = retrying(server).list_images()
    assert [i["ImageName"] for i in answer["Images"]] == ["listed"]
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert server.faults() == []  # both faults spent


@pytest.mark.parametrize(
    ("error", "status"), [("ServiceUnavailable", 503), ("InternalFailure", 500)]
)
def test_server_errors_are_retried_too(server, sm, error, status):
    server.faults(operation="DescribeImage", error=error, count=1)
    sm.create_image(ImageName="retried", RoleArn=ROLE)
    once = server.client(config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as excinfo:  # a client without retries sees it
        once.describe_image(ImageName="retried")
    assert error_of(excinfo)[0::2] == (error, status)
    server.faults(operation="DescribeImage", error=error, count=1)
    assert retrying(server).describe_image(ImageName="retried")["ImageStatus"] == "CREATED"


def test_a_faulted_call_answers_as_aws_and_changes_nothing(server, sm):
    rules = server.faults(operation="CreateImage", error="ResourceInUse", probability=1)
    assert rules[0]["message"] == "Resource was modified concurrently"
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="never", RoleArn=ROLE)
    assert error_of(excinfo) == ("ResourceInUse", "Resource was modified concurrently", 400)
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]
    assert sm.list_images()["Images"] == []  # another operation is served as usual
    with pytest.raises(ClientError):
        sm.create_image(ImageName="never", RoleArn=ROLE)  # probability 1 fires every time
    server.clear_faults()
    sm.create_image(ImageName="never", RoleArn=ROLE)


def test_rules_for_other_accounts_or_latency_alone_let_calls_through(server, sm):
    server.faults(
        {"operation": "*", "error": "ThrottlingException", "account": "999999999999"},
        {"operation": "ListImages", "latency_ms": 20},
    )
    assert sm.list_images()["Images"] == []
    assert len(server.faults()) == 2


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ({"error": "NoSuchError"}, "unknown error 'NoSuchError'"),
        ({"error": "ThrottlingException", "probability": 1.5}, "probability 1.5 is outside 0..1"),
        ({"error": "ThrottlingException", "count": 0}, "count must be a whole number"),
        (
            {"operation": "CreateTrainingJob", "error": "ResourceInUse"},
            "not one this server serves",
        ),
        ({"error": "ResourceInUse", "colour": "red"}, "unknown fault fields ['colour']"),
        ({"probability": 0.5}, "a fault needs an error to answer, a latency, or both"),
        ({"error": "ResourceInUse", "account": "12"}, "account must be 12 digits"),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(server, rule, why):
    server.reset()
    with pytest.raises(ControlError, match="400") as excinfo:
        server.faults(rule)
    assert why in str(excinfo.value)
    assert server.faults() == []
