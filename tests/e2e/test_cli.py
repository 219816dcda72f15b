"""The command line: the server's own flags and environment, and the AWS CLI against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
from support import ACCESS_KEY, ROLE, SECRET_KEY, free_port, healthy, wait_until

AWS = str(Path(sys.executable).with_name("aws"))


def aws(server, region, *args):
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLECLI000001",
        "AWS_SECRET_ACCESS_KEY": "cli-secret",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    result = subprocess.run(
        [AWS, "sagemaker", *args, "--endpoint-url", server.endpoint, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return result


def test_aws_cli_round_trip(server, region):
    created = aws(server, region, "create-image", "--image-name", "cli-image", "--role-arn", ROLE)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["ImageArn"].endswith(":image/cli-image")
    sm = server.client(region)
    wait_until(lambda: sm.describe_image(ImageName="cli-image")["ImageStatus"] == "CREATED")
    made = aws(
        server,
        region,
        "create-image-version",
        "--image-name",
        "cli-image",
        "--base-image",
        "r/cli:1",
        "--aliases",
        "edge",
    )
    assert made.returncode == 0, made.stderr
    described = aws(
        server,
        region,
        "describe-image-version",
        "--image-name",
        "cli-image",
        "--version-number",
        "1",
    )
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["BaseImage"] == "r/cli:1"
    aliases = aws(
        server, region, "list-aliases", "--image-name", "cli-image", "--version-number", "1"
    )
    assert json.loads(aliases.stdout)["SageMakerImageVersionAliases"] == ["edge"]
    listed = aws(server, region, "list-images")
    assert [i["ImageName"] for i in json.loads(listed.stdout)["Images"]] == ["cli-image"]


def test_aws_cli_reports_errors(server, region):
    result = aws(server, region, "describe-image", "--image-name", "missing")
    assert result.returncode != 0
    assert "(ResourceNotFound)" in result.stderr and "does not exist" in result.stderr


def test_settings_from_environment_and_default_data_dir(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SAGEMAKER_IMAGES_PORT": str(port),
        "SAGEMAKER_IMAGES_ACCOUNT_ID": "111122223333",
        "SAGEMAKER_IMAGES_TRANSITIONS": "0",
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    env.pop("SAGEMAKER_IMAGES_DATABASE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "sagemaker_images", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(endpoint))
        sm = boto3.client(
            "sagemaker",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        arn = sm.create_image(ImageName="env", RoleArn=ROLE)["ImageArn"]
        assert ":111122223333:image/env" in arn
        assert (tmp_path / "data" / "sagemaker-images" / "catalog.db").exists()
    finally:
        process.terminate()
        assert process.wait(15) == 0


def test_bad_database_url_fails_fast(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sagemaker_images",
            "serve",
            "--port",
            str(free_port()),
            "--database",
            "sqlite://",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "never held only in memory" in result.stdout + result.stderr


def test_migrate_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_images", "migrate", "--database", url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "schema up to date" in result.stdout
