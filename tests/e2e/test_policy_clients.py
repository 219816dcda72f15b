"""Policies from the outside: the AWS CLI and Terraform read AWS's denials, the access log
names them, SIGHUP reloads policies (a broken one keeps the old in force), and a malformed
policy stops the start in one line."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from botocore.exceptions import ClientError
from policy_support import (
    ADMIN,
    CI,
    GUARDED,
    POLICIES,
    READER,
    REGION,
    SCENARIO,
    SECRET,
    TEAM_A_CI,
    PolicyKey,
    allow,
    arn,
    denial,
    document,
    write_policy_credentials,
)
from support import ROLE, ServerProcess, aws_cli, wait_until
from terraform_support import Terraform

pytestmark = pytest.mark.backends("sqlite")  # processes, files and signals: one backend


def aws(server: ServerProcess, key: PolicyKey, *args: str) -> subprocess.CompletedProcess:
    return aws_cli(server.endpoint, REGION, *args, key=key.access_key_id, secret=SECRET, attempts=1)


def client(server: ServerProcess, key: PolicyKey):
    return server.client(REGION, access_key_id=key.access_key_id, secret_access_key=SECRET)


def test_the_aws_cli_reads_awss_denial_and_the_access_log_names_it(make_server, tmp_path):
    credentials = write_policy_credentials(tmp_path / "credentials.toml", SCENARIO, POLICIES)
    server = make_server("--credentials", str(credentials), "--transitions", "immediate")
    made = aws(server, GUARDED, "create-image", "--image-name", "cli-made", "--role-arn", ROLE)
    assert made.returncode == 0, made.stderr
    listed = aws(server, READER, "list-images")
    assert listed.returncode == 0, listed.stderr
    assert [i["ImageName"] for i in json.loads(listed.stdout)["Images"]] == ["cli-made"]

    written = aws(server, READER, "create-image", "--image-name", "by-reader", "--role-arn", ROLE)
    assert written.returncode == 255  # the AWS CLI v1's exit code for a service error
    assert written.stderr.strip() == (
        "An error occurred (AccessDeniedException) when calling the CreateImage operation: "
        + denial("reader", "CreateImage", arn("image/by-reader"))
    )
    deleted = aws(server, GUARDED, "delete-image", "--image-name", "cli-made")
    assert deleted.returncode == 255
    assert denial("guarded", "DeleteImage", arn("image/cli-made"), "explicit") in deleted.stderr
    assert client(server, ADMIN).describe_image(ImageName="cli-made")["ImageStatus"] == "CREATED"

    wait_until(lambda: "operation=DeleteImage status=400" in server.log())
    lines = server.log().splitlines()
    (create,) = [line for line in lines if "operation=CreateImage status=400" in line]
    assert "error=AccessDeniedException" in create
    assert "denied_action=sagemaker:CreateImage denied_by=-" in create
    (delete,) = [line for line in lines if "operation=DeleteImage status=400" in line]
    assert 'denied_action=sagemaker:DeleteImage denied_by="NoImageDeletes"' in delete


def test_sighup_reloads_policies_and_a_broken_one_keeps_the_old_in_force(make_server, tmp_path):
    reader = PolicyKey(READER.access_key_id, "reader", ["read-only"])
    credentials = write_policy_credentials(
        tmp_path / "credentials.toml", [ADMIN, reader], {"read-only": POLICIES["read-only"]}
    )
    server = make_server("--credentials", str(credentials), "--transitions", "immediate")
    as_reader = client(server, reader)
    with pytest.raises(ClientError) as caught:
        as_reader.create_image(ImageName="later", RoleArn=ROLE)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"

    # A policy from a file beside the credentials file, with a typo that can never match.
    (tmp_path / "writer.json").write_text(
        document(allow(["sagemaker:CreateImage", "sagemaker:Lsit*"]))
    )
    text = credentials.read_text().replace('["read-only"]', '["read-only", "writer"]')
    credentials.write_text(text + '[policies.writer]\nfile = "writer.json"\n')
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded 2 access keys" in server.log())
    assert "policy writer, statement 1: sagemaker:Lsit* matches no SageMaker action" in server.log()
    as_reader.create_image(ImageName="later", RoleArn=ROLE)

    # A broken policy: the file does not load, the policies in force stay, the log says why.
    (tmp_path / "writer.json").write_text(
        '{"Version": "2012-10-17", "Statement": {"Effect": "Maybe"}}'
    )
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "credentials not reloaded" in server.log())
    assert (
        f"keeping 2 keys and their policies in force: credentials file {credentials},"
        " policy writer, statement 1: Effect must be Allow or Deny"
    ) in server.log()
    as_reader.create_image(ImageName="still", RoleArn=ROLE)
    assert SECRET not in server.log()


def test_a_malformed_policy_stops_the_start_in_one_line(tmp_path):
    credentials = write_policy_credentials(
        tmp_path / "credentials.toml",
        [READER],
        {
            "read-only": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*"}]}'
        },
    )
    server = ServerProcess(tmp_path / "server", args=["--credentials", str(credentials)])
    result = subprocess.run(server.command(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            f"Error: Invalid value for --credentials: credentials file {credentials}, policy"
            " read-only, statement 1: needs exactly one of Resource and NotResource"
        )
    )
    assert "Traceback" not in result.stderr


def test_terraform_applies_what_its_key_allows_and_reads_awss_denials(make_server, tmp_path):
    statements = json.loads(TEAM_A_CI)["Statement"] + [
        allow(
            ["sagemaker:*AppImageConfig", "sagemaker:ListTags", "sagemaker:AddTags"],
            arn("app-image-config/tf-*"),
            Sid="TerraformConfigs",
        )
    ]
    tf_key = PolicyKey(CI.access_key_id, "ci", ["tf-ci"])
    credentials = write_policy_credentials(
        tmp_path / "credentials.toml",
        [ADMIN, tf_key],
        {"tf-ci": json.dumps({"Version": "2012-10-17", "Statement": statements})},
    )
    server = make_server("--credentials", str(credentials), "--transitions", "immediate")
    admin = client(server, ADMIN)
    for name in ("team-a-train", "team-b-train"):
        admin.create_image(ImageName=name, RoleArn=ROLE)
    tf = Terraform(
        tmp_path / "tf",
        "policies",
        endpoint=server.endpoint,
        region=REGION,
        access_key=tf_key.access_key_id,
        secret_key=SECRET,
    )
    tf.write_variables({"images": ["team-a-train"], "configs": ["tf-kernel"]})
    tf.init()
    tf.apply()
    assert admin.describe_image_version(ImageName="team-a-train")["Version"] == 1
    assert admin.describe_app_image_config(AppImageConfigName="tf-kernel")

    tf.write_variables(
        {"images": ["team-a-train", "team-b-train"], "configs": ["tf-kernel", "outside"]}
    )
    result = tf.run("apply", "-auto-approve", "-input=false", check=False, timeout=600)
    assert result.returncode != 0
    for action, resource in (
        ("CreateImageVersion", arn("image/team-b-train")),
        ("CreateAppImageConfig", arn("app-image-config/outside")),
    ):
        message = denial("ci", action, resource)
        assert f"api error AccessDeniedException: {message}" in result.stderr, result.stderr
    assert admin.list_image_versions(ImageName="team-b-train")["ImageVersions"] == []
    with pytest.raises(ClientError):
        admin.describe_app_image_config(AppImageConfigName="outside")
