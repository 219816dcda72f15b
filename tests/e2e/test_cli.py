"""The command line: the server's own flags and environment, and the AWS CLI against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
from support import (
    ACCESS_KEY,
    ROLE,
    SECRET_KEY,
    aws_cli,
    create_image,
    create_version,
    free_port,
    healthy,
    wait_until,
)


def aws(server, region, *args):
    return aws_cli(server.endpoint, region, *args)


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


def test_workers_are_refused_on_sqlite(tmp_path):
    """Several processes cannot serve one SQLite file: `--workers` says PostgreSQL is needed
    before anything starts."""
    database = tmp_path / "catalog.db"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "sagemaker_images", "serve", "--port", str(free_port())),
            *("--database", f"sqlite:///{database}", "--workers", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: --workers needs PostgreSQL (--database postgresql://...)")
    assert not database.exists()


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


def test_aws_cli_attaches_a_custom_image_to_a_domain(server, region, tmp_path):
    """AWS's guide to attaching a custom image: the domain's default user settings come
    from a JSON file (`file://`), first at creation, then replaced by update-domain."""
    sm = server.client(region)
    create_image(sm, "cli-kernel")
    create_version(sm, "cli-kernel", base="r/cli-kernel:1")
    config = aws(
        server,
        region,
        "create-app-image-config",
        "--app-image-config-name",
        "cli-kernel-config",
        "--kernel-gateway-image-config",
        json.dumps({"KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3"}]}),
    )
    assert config.returncode == 0, config.stderr

    settings = tmp_path / "default-user-settings.json"
    settings.write_text(json.dumps({"ExecutionRole": ROLE}))
    created = aws(
        server,
        region,
        "create-domain",
        "--domain-name",
        "cli-domain",
        "--auth-mode",
        "IAM",
        "--vpc-id",
        "vpc-0cli",
        "--subnet-ids",
        "subnet-0cli",
        "--default-user-settings",
        f"file://{settings}",
    )
    assert created.returncode == 0, created.stderr
    domain_id = json.loads(created.stdout)["DomainId"]
    wait_until(lambda: sm.describe_domain(DomainId=domain_id)["Status"] == "InService")

    custom = {"ImageName": "cli-kernel", "AppImageConfigName": "cli-kernel-config"}
    settings.write_text(
        json.dumps({"KernelGatewayAppSettings": {"CustomImages": [custom]}}, indent=2)
    )
    updated = aws(
        server,
        region,
        "update-domain",
        "--domain-id",
        domain_id,
        "--default-user-settings",
        f"file://{settings}",
    )
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["DomainArn"].endswith(f":domain/{domain_id}")
    wait_until(lambda: sm.describe_domain(DomainId=domain_id)["Status"] == "InService")

    described = aws(server, region, "describe-domain", "--domain-id", domain_id)
    assert described.returncode == 0, described.stderr
    user_settings = json.loads(described.stdout)["DefaultUserSettings"]
    # Merged into what the domain had: the execution role stays.
    assert user_settings["ExecutionRole"] == ROLE
    assert user_settings["KernelGatewayAppSettings"]["CustomImages"] == [custom]

    # An image the catalog does not hold is refused, as the guide's troubleshooting says.
    settings.write_text(
        json.dumps(
            {"KernelGatewayAppSettings": {"CustomImages": [{**custom, "ImageName": "cli-missing"}]}}
        )
    )
    refused = aws(
        server,
        region,
        "update-domain",
        "--domain-id",
        domain_id,
        "--default-user-settings",
        f"file://{settings}",
    )
    assert refused.returncode != 0
    assert "(ValidationException)" in refused.stderr
    assert "Image cli-missing does not exist." in refused.stderr
