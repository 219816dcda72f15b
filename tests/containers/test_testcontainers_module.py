"""`SageMakerImagesContainer` under Testcontainers, through podman's Docker API, as a user's
test suite runs it: pytest in a process of its own, with the environment Testcontainers
reads (this machine's: no Ryuk, ports on the Docker host) and nothing else of ours. The
Python examples of the container docs run the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_support import IMAGE, Podman, container_blocks

ROOT = Path(__file__).resolve().parents[2]

MODULE_TESTS = """
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sagemaker_images.testing.containers import SageMakerImagesContainer

ROLE = "arn:aws:iam::111122223333:role/SageMaker"


def test_settings_reach_the_server_and_the_control_api_drives_it():
    hooks = ("http://127.0.0.1:9/first", "http://127.0.0.1:9/second")  # nobody listens
    with SageMakerImagesContainer(
        transitions="manual",
        account_id="111122223333",
        max_images=1,
        region_name="eu-west-1",
        events_webhooks=hooks,
        events_source="platform.images",
    ) as catalog:
        assert catalog.endpoint_url.startswith("http://")
        sm = catalog.get_client()
        arn = sm.create_image(ImageName="held", RoleArn=ROLE)["ImageArn"]
        assert arn == "arn:aws:sagemaker:eu-west-1:111122223333:image/held"
        assert sm.describe_image(ImageName="held")["ImageStatus"] == "CREATING"
        assert catalog.complete(arn) == [arn]
        assert sm.describe_image(ImageName="held")["ImageStatus"] == "CREATED"
        with pytest.raises(sm.exceptions.ResourceLimitExceeded):
            sm.create_image(ImageName="one-too-many", RoleArn=ROLE)
        catalog.faults(operation="ListImages", error="ThrottlingException", count=1)
        once = catalog.get_client(config=Config(retries={"total_max_attempts": 1}))
        with pytest.raises(ClientError, match="ThrottlingException"):
            once.list_images()
        assert [e["source"] for e in catalog.events()] == ["platform.images"] * 2
        metrics = urllib.request.urlopen(catalog.endpoint_url + "/metrics").read().decode()
        for hook in hooks:
            assert f'sagemaker_images_events_undelivered{{sink="webhook {hook}"}} 2.0' in metrics
        catalog.reset()
        assert sm.list_images()["Images"] == []


def test_without_the_control_api():
    with SageMakerImagesContainer(control_api=False) as catalog:
        sm = catalog.get_client()
        sm.create_image(ImageName="quick", RoleArn=ROLE)  # transitions: immediate
        assert sm.describe_image(ImageName="quick")["ImageStatus"] == "CREATED"
        with pytest.raises(RuntimeError, match="no control API"):
            catalog.reset()
"""


@pytest.fixture(scope="module")
def docker_host(podman: Podman, image: str) -> Iterator[dict[str, str]]:
    """The environment of a test suite using Testcontainers against podman's Docker API."""
    with podman.docker_api() as host:
        yield {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKER_"))},
            "DOCKER_HOST": host,
            "TESTCONTAINERS_RYUK_DISABLED": "true",
            "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }


def run_pytest(code: str, where: Path, env: dict[str, str]) -> None:
    (where / "test_with_testcontainers.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout


def test_the_module_starts_the_image_and_serves_boto3(
    docker_host: dict[str, str], tmp_path: Path, podman: Podman
) -> None:
    run_pytest(MODULE_TESTS, tmp_path, docker_host)
    leftover = podman.output("ps", "--all", "--quiet", "--filter", f"ancestor={IMAGE}")
    assert leftover == "", "a container of the module outlived its `with` block"


DOC_TESTS = [
    pytest.param(code, id=where)
    for where, language, code in container_blocks()
    if language == "python" and "def test_" in code
]


@pytest.mark.parametrize("code", DOC_TESTS)
def test_the_docs_testcontainers_examples_pass(
    code: str, docker_host: dict[str, str], tmp_path: Path
) -> None:
    run_pytest(code, tmp_path, docker_host)


def test_every_python_block_of_the_container_docs_is_run() -> None:
    """Each is a test (run above) or calls the compose stack (test_compose_file.py)."""
    for where, language, code in container_blocks():
        if language == "python":
            assert "def test_" in code or "127.0.0.1:{port}" in code, where
