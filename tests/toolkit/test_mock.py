"""mock_sagemaker_images: moto's ways of testing, each activation on an empty catalog, the
environment put back exactly as it was."""

from __future__ import annotations

import asyncio
import os
import unittest

import boto3
import pytest
from support import ROLE

from sagemaker_images.testing import mock_sagemaker_images
from sagemaker_images.testing.mock import ENDPOINT_VARIABLE

VARIABLES = (
    ENDPOINT_VARIABLE,
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Each test starts without the variables the mock sets (as on a fresh machine)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def names() -> list[str]:
    return [i["ImageName"] for i in boto3.client("sagemaker").list_images()["Images"]]


@mock_sagemaker_images
def make_one(name: str) -> list[str]:
    boto3.client("sagemaker").create_image(ImageName=name, RoleArn=ROLE)
    return names()


def test_a_decorated_function_starts_empty_each_call():
    assert make_one("first") == ["first"]
    assert make_one("second") == ["second"]
    assert not any(name in os.environ for name in VARIABLES)


def test_a_decorated_coroutine_function():
    @mock_sagemaker_images(region_name="eu-west-1")
    async def scenario() -> str:
        sm = boto3.client("sagemaker")
        return sm.create_image(ImageName="async", RoleArn=ROLE)["ImageArn"]

    assert asyncio.run(scenario()) == "arn:aws:sagemaker:eu-west-1:123456789012:image/async"


def test_with_block_and_start_stop_isolate_state():
    with mock_sagemaker_images() as server:
        boto3.client("sagemaker").create_image(ImageName="inside", RoleArn=ROLE)
        assert os.environ[ENDPOINT_VARIABLE] == server.endpoint_url
    assert ENDPOINT_VARIABLE not in os.environ
    mock = mock_sagemaker_images()
    mock.start()
    try:
        assert names() == []
    finally:
        mock.stop()
    assert ENDPOINT_VARIABLE not in os.environ


def test_the_environment_is_put_back_exactly(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "my-secret")
    monkeypatch.setenv(ENDPOINT_VARIABLE, "https://api.sagemaker.example")
    before = dict(os.environ)
    with mock_sagemaker_images() as server:
        assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"  # never overwritten
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"  # was unset: set
        assert os.environ[ENDPOINT_VARIABLE] == server.endpoint_url  # always the server
        assert names() == []
    assert dict(os.environ) == before


@mock_sagemaker_images
class TestAPlainClass:
    def test_one(self):
        boto3.client("sagemaker").create_image(ImageName="one", RoleArn=ROLE)
        assert names() == ["one"]

    def test_two(self):
        assert names() == []


def test_a_unittest_case_is_active_from_set_up_to_its_cleanups():
    @mock_sagemaker_images
    class Case(unittest.TestCase):
        def setUp(self):
            boto3.client("sagemaker").create_image(ImageName="from-setup", RoleArn=ROLE)

        def test_sees_what_set_up_made(self):
            self.assertEqual(names(), ["from-setup"])

        def test_starts_empty_again(self):
            boto3.client("sagemaker").create_image(ImageName="extra", RoleArn=ROLE)
            self.assertEqual(sorted(names()), ["extra", "from-setup"])

    result = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(  # noqa: SIM115
        unittest.defaultTestLoader.loadTestsFromTestCase(Case)
    )
    assert (result.testsRun, result.failures, result.errors) == (2, [], [])
    assert ENDPOINT_VARIABLE not in os.environ
