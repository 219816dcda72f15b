"""Authentication from the outside: the AWS CLI, the flags, SIGHUP reloads, a bad file."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from auth_support import ACCOUNT_A, ALL_KEYS, KEY_A, KEY_B, Key, client_for, write_credentials
from botocore.exceptions import ClientError
from support import ROLE, ServerProcess, aws_cli, error_of, wait_until

# Flags, files and signals, before any database: one backend is enough.
pytestmark = pytest.mark.backends("sqlite")

INVALID_TOKEN = "The security token included in the request is invalid."
SECRETS = [key.secret_access_key for key in ALL_KEYS] + [
    key.session_token for key in ALL_KEYS if key.session_token
]


def aws(server: ServerProcess, key: Key, secret: str, *args: str) -> subprocess.CompletedProcess:
    return aws_cli(
        server.endpoint, "us-west-2", *args, key=key.access_key_id, secret=secret, attempts=1
    )


def test_aws_cli_signs_in_with_a_good_key_and_is_refused_with_bad_ones(auth_server):
    made = aws(
        auth_server, KEY_A, KEY_A.secret_access_key, "create-image", "--image-name", "by-cli",
        "--role-arn", ROLE,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["ImageArn"] == (
        f"arn:aws:sagemaker:us-west-2:{ACCOUNT_A}:image/by-cli"
    )
    listed = aws(auth_server, KEY_A, KEY_A.secret_access_key, "list-images")
    assert listed.returncode == 0, listed.stderr
    assert "by-cli" in {i["ImageName"] for i in json.loads(listed.stdout)["Images"]}

    wrong_secret = aws(auth_server, KEY_A, "wrong-secret", "list-images")
    assert wrong_secret.returncode != 0
    assert "(InvalidSignatureException)" in wrong_secret.stderr
    assert "The request signature we calculated does not match" in wrong_secret.stderr

    stranger = Key("AKIDUNKNOWNCLI000001", "x", ACCOUNT_A)
    unknown = aws(auth_server, stranger, "x", "list-images")
    assert unknown.returncode != 0
    assert (
        f"(UnrecognizedClientException) when calling the ListImages operation: {INVALID_TOKEN}"
        in (unknown.stderr)
    )


def test_sighup_reloads_the_keys_without_a_restart(make_server, tmp_path):
    credentials = write_credentials(tmp_path / "credentials.toml", [KEY_A])
    server = make_server("--credentials", str(credentials))
    a = client_for(server, KEY_A, "us-east-1")
    b = client_for(server, KEY_B, "us-east-1")
    a.create_image(ImageName="kept", RoleArn=ROLE)
    with pytest.raises(ClientError) as excinfo:
        b.list_images()
    assert error_of(excinfo) == ("UnrecognizedClientException", INVALID_TOKEN, 400)

    # B added, A removed.
    write_credentials(credentials, [KEY_B])
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: _accepted(b))
    with pytest.raises(ClientError) as excinfo:
        a.list_images()
    assert error_of(excinfo) == ("UnrecognizedClientException", INVALID_TOKEN, 400)

    # A broken file keeps the keys in force and says why in the log.
    credentials.write_text(
        '[[keys]]\naccess_key_id = "AKIDBROKEN0000000001"\nsecret_access_key = "s"\n'
    )
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "credentials not reloaded" in server.log())
    assert "missing account_id" in server.log()
    assert b.list_images()["Images"] == []
    assert server.process.poll() is None

    # Same account again: A's image was there all along.
    write_credentials(credentials, [KEY_A, KEY_B])
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: _accepted(a))
    assert [i["ImageName"] for i in a.list_images()["Images"]] == ["kept"]
    log = server.log()
    assert all(secret not in log for secret in SECRETS)


def _accepted(client) -> bool:
    try:
        client.list_images()
    except ClientError:
        return False
    return True


def test_a_bad_credentials_file_stops_the_start_without_revealing_secrets(tmp_path):
    credentials = tmp_path / "credentials.toml"
    credentials.write_text(
        '[[keys]]\naccess_key_id = "AKIDACCOUNTA00000001"\n'
        f'secret_access_key = "{KEY_A.secret_access_key}"\naccount_id = "12345"\n'
    )
    server = ServerProcess(tmp_path / "server", args=["--credentials", str(credentials)])
    result = subprocess.run(server.command(), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "key 1: account_id must be 12 digits" in output
    assert KEY_A.secret_access_key not in output


def test_sigv4_needs_a_credentials_file(tmp_path):
    server = ServerProcess(tmp_path / "server", args=["--auth", "sigv4"])
    result = subprocess.run(server.command(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--auth sigv4 needs --credentials FILE" in result.stderr


def test_auth_off_accepts_any_key_in_the_configured_account(make_server, tmp_path):
    credentials = write_credentials(tmp_path / "credentials.toml", [KEY_A])
    server = make_server("--credentials", str(credentials), "--auth", "off")
    stranger = Key("AKIDANYTHING00000001", "anything", ACCOUNT_A)
    arn = client_for(server, stranger, "us-east-1").create_image(ImageName="open", RoleArn=ROLE)[
        "ImageArn"
    ]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:image/open"


def test_the_credentials_file_can_come_from_the_environment(make_server, tmp_path):
    credentials = write_credentials(tmp_path / "credentials.toml", [KEY_B])
    server = make_server(env={"SAGEMAKER_IMAGES_CREDENTIALS": str(credentials)})
    assert client_for(server, KEY_B, "us-east-1").list_images()["Images"] == []
    with pytest.raises(ClientError) as excinfo:
        client_for(server, KEY_A, "us-east-1").list_images()
    assert error_of(excinfo)[0] == "UnrecognizedClientException"
