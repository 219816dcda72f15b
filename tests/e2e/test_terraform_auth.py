"""Terraform's AWS provider (Go SDK v2 signer) authenticates with good keys, not with bad ones.

The Go SDK signs `amz-sdk-invocation-id`, `amz-sdk-request` and `content-length` besides the
usual headers: a successful apply shows the server verifies over the client's own list.
"""

from __future__ import annotations

import pytest
from auth_support import ACCOUNT_A, KEY_A, KEY_B, client_for
from botocore.exceptions import ClientError
from terraform_support import Terraform

pytestmark = pytest.mark.backends("sqlite")  # each terraform run costs ~10 s; accounts run on both

REGION = "us-west-2"


def test_terraform_applies_with_a_good_key_in_its_account(auth_server, tmp_path):
    tf = Terraform(
        tmp_path,
        "auth",
        endpoint=auth_server.endpoint,
        region=REGION,
        access_key=KEY_A.access_key_id,
        secret_key=KEY_A.secret_access_key,
    )
    tf.write_variables({"name": "tf-signed"})
    tf.init()
    tf.apply()
    arn = tf.outputs()["arn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT_A}:app-image-config/tf-signed"
    a = client_for(auth_server, KEY_A, REGION)
    assert a.describe_app_image_config(AppImageConfigName="tf-signed")["AppImageConfigArn"] == arn
    b = client_for(auth_server, KEY_B, REGION)
    with pytest.raises(ClientError) as excinfo:
        b.describe_app_image_config(AppImageConfigName="tf-signed")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFound"
    a.delete_app_image_config(AppImageConfigName="tf-signed")


def test_terraform_is_refused_with_a_wrong_secret(auth_server, tmp_path):
    # (Unknown keys are covered with boto3 and the AWS CLI: each terraform run costs ~10 s.)
    tf = Terraform(
        tmp_path,
        "auth",
        endpoint=auth_server.endpoint,
        region=REGION,
        access_key=KEY_A.access_key_id,
        secret_key="not-the-secret",
    )
    tf.write_variables({"name": "tf-refused"})
    tf.init()
    result = tf.run("apply", "-auto-approve", "-input=false", check=False, timeout=300)
    assert result.returncode != 0
    assert "StatusCode: 400" in result.stderr, result.stderr
    assert (
        "api error InvalidSignatureException: The request signature we calculated does not "
        "match the signature you provided." in result.stderr
    )
    a = client_for(auth_server, KEY_A, REGION)
    assert "tf-refused" not in {
        c["AppImageConfigName"] for c in a.list_app_image_configs()["AppImageConfigs"]
    }
