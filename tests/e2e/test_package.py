"""The package as users get it: a wheel and an sdist built with `python -m build`, each
installed into a clean virtualenv beside a boto3 of the user's choosing (the newest on the
package index, and the oldest supported, 1.35), where the server runs and the pytest plugin
serves a user's own project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ServerProcess, raw_call

ROOT = Path(__file__).resolve().parents[2]
# The first botocore whose image_deleted / image_version_deleted waiters wait for the
# ResourceNotFound that SageMaker sends (boto/botocore#3782): earlier ones fail.
FIRST_FIXED_WAITERS = (1, 43, 125)

PIPELINE = """
import boto3

ROLE = "arn:aws:iam::123456789012:role/SageMaker"


def publish(name):
    sm = boto3.client("sagemaker")
    sm.create_image(ImageName=name, RoleArn=ROLE)
    sm.get_waiter("image_created").wait(ImageName=name)
    sm.create_image_version(ImageName=name, BaseImage="registry.example/team:1")
    sm.get_waiter("image_version_created").wait(ImageName=name, Version=1)
"""

TESTS = """
import os

import botocore
import pytest
from botocore.exceptions import WaiterError

from pipeline import publish


def test_publish(sagemaker_client):
    publish("team")
    assert sagemaker_client.describe_image_version(ImageName="team")["Version"] == 1


def test_deleted_waiters(sagemaker_images, sagemaker_client):
    publish("gone")
    sagemaker_client.delete_image_version(ImageName="gone", Version=1)
    waiter = sagemaker_client.get_waiter("image_version_deleted")
    if os.environ["WAITERS_FIXED"] == "1":
        waiter.wait(ImageName="gone", Version=1, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    else:  # botocore before the fix waits for a ResourceNotFoundException AWS never sends
        with pytest.raises(WaiterError, match="ResourceNotFound"):
            waiter.wait(ImageName="gone", Version=1, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def virtualenv(where: Path, *packages: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *packages],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: none of this repository's settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SAGEMAKER_IMAGES_", "AWS_", "PYTEST_", "PYTHON"))
    }


def botocore_version(python: Path) -> tuple[int, ...]:
    text = subprocess.run(
        [str(python), "-c", "import botocore; print(botocore.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return tuple(int(part) for part in text.strip().split(".")[:3])


@pytest.mark.timeout(1500)
@pytest.mark.parametrize(
    ("boto3", "expect_fixed_waiters"),
    [("boto3", True), ("boto3>=1.35,<1.36", False)],
    ids=["newest-boto3", "boto3-1.35"],
)
def test_the_wheel_serves_a_users_project(dist, tmp_path, boto3, expect_fixed_waiters):
    wheel = next(dist.glob("*.whl"))
    python = virtualenv(tmp_path / "venv", str(wheel), boto3, "pytest")
    assert (botocore_version(python) >= FIRST_FIXED_WAITERS) is expect_fixed_waiters
    project = tmp_path / "project"
    project.mkdir()
    (project / "pipeline.py").write_text(PIPELINE)
    (project / "test_pipeline.py").write_text(TESTS)
    env = {**clean_env(), "WAITERS_FIXED": "1" if expect_fixed_waiters else "0"}
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout


@pytest.mark.timeout(1500)
def test_the_sdist_installs_and_serves(dist, tmp_path):
    sdist = next(dist.glob("*.tar.gz"))
    python = virtualenv(tmp_path / "venv", str(sdist))
    server = ServerProcess(
        tmp_path / "server",
        program=[str(python.parent / "sagemaker-images")],
        args=["--transitions", "immediate"],
    )
    server.env = clean_env()
    server.start(timeout=60)
    try:
        status, _, body = raw_call(server, "SageMaker.ListImages", {})
        assert (status, body) == (200, {"Images": []})
    finally:
        assert server.stop() == 0
