"""The policy engine on its own: documents read and checked, conditions as AWS's IAM
documents them, evaluation order and AWS's messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_support import documented_policies

from sagemaker_images.auth.conditions import ConditionError, compile_operator
from sagemaker_images.auth.credentials import CredentialsError, load_credentials
from sagemaker_images.auth.policies import PolicyError, PolicySet, Principal, compile_policy

USER = "arn:aws:iam::111111111111:user/ci"
IMAGE = "arn:aws:sagemaker:us-east-1:111111111111:image/team-a-train"


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def principal(*statements: dict[str, Any], boundary: str | None = None) -> Principal:
    compiled = compile_policy("p", policy(*statements))
    fence = PolicySet.of([compile_policy("b", boundary)]) if boundary else None
    return Principal(USER, PolicySet.of([compiled]), fence)


def holds(operator: str, key: str, values: Any, context: dict[str, Any]) -> bool:
    return compile_operator(operator, key, values, True)(context)


# -- conditions --------------------------------------------------------------------------


def test_string_operators_and_absent_keys():
    ctx = {"aws:requestedregion": "us-east-1"}
    assert holds("StringEquals", "aws:RequestedRegion", ["eu-west-1", "us-east-1"], ctx)
    assert not holds("StringEquals", "aws:RequestedRegion", "US-EAST-1", ctx)
    assert holds("StringEqualsIgnoreCase", "aws:RequestedRegion", "US-EAST-1", ctx)
    assert holds("StringLike", "aws:RequestedRegion", "us-*", ctx)
    assert not holds("StringNotLike", "aws:RequestedRegion", "us-?ast-1", ctx)
    # Absent: a positive operator fails, a negated one holds, IfExists holds either way.
    assert not holds("StringEquals", "aws:SourceVpc", "vpc-1", ctx)
    assert holds("StringNotEquals", "aws:SourceVpc", "vpc-1", ctx)
    assert holds("StringEqualsIfExists", "aws:SourceVpc", "vpc-1", ctx)
    assert not holds("StringEqualsIfExists", "aws:RequestedRegion", "eu-west-1", ctx)


def test_set_operators_over_multivalued_keys():
    images = {
        "sagemaker:imagearns": (
            "arn:aws:sagemaker:us-east-1:1:image/a",
            "arn:aws:sagemaker:us-east-1:1:image/b",
        )
    }
    approved = ["arn:aws:sagemaker:*:*:image/a"]
    assert not holds("ForAllValues:ArnLike", "sagemaker:ImageArns", approved, images)
    assert holds("ForAnyValue:ArnLike", "sagemaker:ImageArns", approved, images)
    assert holds(
        "ForAllValues:ArnLike",
        "sagemaker:ImageArns",
        [*approved, "arn:aws:sagemaker:*:*:image/b"],
        images,
    )
    # No values at all: every one of none matches; none is any.
    assert holds("ForAllValues:ArnLike", "sagemaker:ImageArns", approved, {})
    assert not holds("ForAnyValue:ArnLike", "sagemaker:ImageArns", approved, {})
    assert holds(
        "ForAllValues:StringNotLike", "aws:TagKeys", "secret*", {"aws:tagkeys": ("team", "cost")}
    )
    assert not holds(
        "ForAllValues:StringNotLike",
        "aws:TagKeys",
        "secret*",
        {"aws:tagkeys": ("team", "secret-x")},
    )


def test_arn_like_matches_part_by_part():
    ctx = {"aws:principalarn": "arn:aws:iam::111111111111:user/ci"}
    assert holds("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:user/*", ctx)
    assert not holds("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*", ctx)
    assert holds("ArnNotEquals", "aws:PrincipalArn", "arn:aws:iam::111111111111:user/other", ctx)
    with pytest.raises(ConditionError, match="not an ARN"):
        compile_operator("ArnLike", "aws:PrincipalArn", "user/*", True)


def test_numbers_dates_booleans_addresses_and_null():
    ctx = {
        "aws:epochtime": "1700000000",
        "aws:currenttime": "2026-12-07T10:00:00Z",
        "aws:securetransport": "false",
        "aws:sourceip": "10.1.2.3",
    }
    assert holds("NumericGreaterThan", "aws:EpochTime", 1600000000, ctx)
    assert not holds("NumericLessThanEquals", "aws:EpochTime", "1600000000", ctx)
    assert holds("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", ctx)
    assert holds("DateLessThan", "aws:CurrentTime", "2027-01-01", ctx)
    assert holds("Bool", "aws:SecureTransport", False, ctx)
    assert not holds("Bool", "aws:SecureTransport", "true", ctx)
    assert holds("IpAddress", "aws:SourceIp", ["192.168.0.0/16", "10.0.0.0/8"], ctx)
    assert not holds("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", ctx)
    assert holds("Null", "aws:SourceVpc", "true", ctx)
    assert holds("Null", "aws:SourceIp", "false", ctx)
    for operator, value in (
        ("NumericEquals", "ten"),
        ("DateEquals", "yesterday"),
        ("IpAddress", "10.0.0.300"),
        ("Bool", "yes"),
    ):
        with pytest.raises(ConditionError):
            compile_operator(operator, "aws:EpochTime", value, True)
    with pytest.raises(ConditionError, match="unknown condition operator"):
        compile_operator("StringSounds", "aws:EpochTime", "x", True)


def test_policy_variables_with_defaults_and_escapes():
    ctx = {"aws:username": "ana"}
    assert holds(
        "StringEquals",
        "aws:RequestTag/owner",
        "${aws:username}",
        {**ctx, "aws:requesttag/owner": "ana"},
    )
    assert not holds(
        "StringEquals",
        "aws:RequestTag/owner",
        "${aws:username}",
        {**ctx, "aws:requesttag/owner": "bob"},
    )
    # A variable's value is literal, not a wildcard; ${*} is a literal star.
    assert not holds(
        "StringLike",
        "aws:RequestTag/owner",
        "${aws:username}",
        {"aws:username": "*", "aws:requesttag/owner": "ana"},
    )
    assert holds("StringLike", "aws:RequestTag/owner", "a${*}", {"aws:requesttag/owner": "a*"})
    assert not holds("StringLike", "aws:RequestTag/owner", "a${*}", {"aws:requesttag/owner": "ab"})
    # No value and no default: the value matches nothing.
    assert not holds(
        "StringEquals", "aws:RequestTag/owner", "${aws:username}", {"aws:requesttag/owner": ""}
    )
    assert holds(
        "StringEquals",
        "aws:RequestTag/owner",
        "${aws:username, 'nobody'}",
        {"aws:requesttag/owner": "nobody"},
    )


# -- evaluation --------------------------------------------------------------------------


def test_deny_then_allow_then_implicit_deny_in_awss_words():
    who = principal(
        {
            "Effect": "Allow",
            "Action": "SageMaker:describe*",
            "Resource": "arn:aws:sagemaker:*:*:image/team-a-*",
        },
        {
            "Sid": "NoTrain",
            "Effect": "Deny",
            "Action": "sagemaker:DescribeImage",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:RequestedRegion": "eu-*"}},
        },
    )
    assert who.refusal("DescribeImage", IMAGE, {"aws:requestedregion": "us-east-1"}) is None
    refused = who.refusal("DescribeImage", IMAGE, {"aws:requestedregion": "eu-west-1"})
    assert refused is not None and refused.denied_by == "NoTrain"
    assert refused.message == (
        f"User: {USER} is not authorized to perform: sagemaker:DescribeImage on resource:"
        f" {IMAGE} with an explicit deny in an identity-based policy"
    )
    other = IMAGE.replace("team-a", "team-b")
    refused = who.refusal("DescribeImage", other, {})
    assert refused is not None and refused.denied_by is None
    assert refused.message.endswith(
        "because no identity-based policy allows the sagemaker:DescribeImage action"
    )
    assert who.refusal("DeleteImage", IMAGE, {}) is not None


def test_not_action_and_not_resource():
    who = principal(
        {
            "Effect": "Allow",
            "NotAction": ["sagemaker:Delete*"],
            "NotResource": "arn:aws:sagemaker:*:*:image/secret",
        },
    )
    assert who.refusal("UpdateImage", IMAGE, {}) is None
    assert who.refusal("DeleteImage", IMAGE, {}) is not None
    assert who.refusal("UpdateImage", IMAGE.replace("team-a-train", "secret"), {}) is not None


def test_a_boundary_caps_and_its_deny_is_its_own():
    boundary = policy(
        {"Effect": "Allow", "Action": "sagemaker:Describe*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "sagemaker:DescribeImage",
            "Resource": "arn:aws:sagemaker:*:*:image/secret",
        },
    )
    who = principal(
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}, boundary=boundary
    )
    assert who.refusal("DescribeImage", IMAGE, {}) is None
    capped = who.refusal("UpdateImage", IMAGE, {})
    assert capped is not None and capped.message.endswith(
        "because no permissions boundary allows the sagemaker:UpdateImage action"
    )
    walled = who.refusal("DescribeImage", IMAGE.replace("team-a-train", "secret"), {})
    assert walled is not None and walled.message.endswith(
        "with an explicit deny in a permissions boundary"
    )
    # The boundary alone grants nothing.
    bare = Principal(USER, PolicySet.of([]), PolicySet.of([compile_policy("b", boundary)]))
    assert bare.refusal("DescribeImage", IMAGE, {}) is not None


def test_variables_are_literal_in_a_2008_policy():
    literal = compile_policy(
        "old",
        policy(
            {
                "Effect": "Allow",
                "Action": "sagemaker:DescribeImage",
                "Resource": "arn:aws:sagemaker:*:*:image/${aws:username}",
            },
            version="2008-10-17",
        ),
    )
    who = Principal(USER, PolicySet.of([literal]))
    assert (
        who.refusal(
            "DescribeImage",
            IMAGE.replace("team-a-train", "${aws:username}"),
            {"aws:username": "ci"},
        )
        is None
    )
    assert (
        who.refusal("DescribeImage", IMAGE.replace("team-a-train", "ci"), {"aws:username": "ci"})
        is not None
    )


# -- documents: errors and warnings -------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            {"Effect": "Permit", "Action": "sagemaker:*", "Resource": "*"},
            "Effect must be Allow or Deny",
        ),
        ({"Effect": "Allow", "Resource": "*"}, "needs exactly one of Action and NotAction"),
        (
            {"Effect": "Allow", "Action": "sagemaker:*"},
            "needs exactly one of Resource and NotResource",
        ),
        ({"Effect": "Allow", "Action": "DescribeImage", "Resource": "*"}, "must be service:action"),
        ({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "image/x"}, "is not an ARN"),
        (
            {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*", "Principal": "*"},
            "must not name a Principal",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "sagemaker:*",
                "Resource": "*",
                "Condition": {"StringEquals": "x"},
            },
            "must be an object",
        ),
        ({"Effect": "Allow", "Action": [], "Resource": "*"}, "Action must be a string or a list"),
    ],
)
def test_malformed_statements_are_errors(statement, message):
    with pytest.raises(PolicyError, match=message) as caught:
        compile_policy("broken", policy(statement))
    assert str(caught.value).startswith("policy broken, statement 1: ")


def test_malformed_documents_are_errors():
    for text, message in (
        ("{", "not valid JSON"),
        ('{"Version": "2012-10-17"}', "missing Statement"),
        ('{"Version": "2020-01-01", "Statement": []}', "Version must be 2012-10-17"),
        ('{"Version": "2012-10-17", "Statement": [], "Extra": 1}', "unknown fields"),
    ):
        with pytest.raises(PolicyError, match=message):
            compile_policy("broken", text)


def test_names_that_can_never_match_are_warnings():
    compiled = compile_policy(
        "typos",
        policy(
            {
                "Effect": "Allow",
                "Action": [
                    "sagemaker:DescribeImages",
                    "sagemaker:Lsit*",
                    "sagemaker:CreateTrainingJob",
                    "s3:GetObject",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "sagemaker:ImageArn": "x",
                        "aws:RequestedRegion": "us-east-1",
                        "ec2:Vpc": "x",
                    }
                },
            },
        ),
    )
    assert compiled.warnings == (
        "policy typos, statement 1: sagemaker:DescribeImages is not a SageMaker action",
        "policy typos, statement 1: sagemaker:Lsit* matches no SageMaker action",
        "policy typos, statement 1: condition key sagemaker:ImageArn is not one AWS defines",
    )


def test_the_documented_policies_compile_without_warnings():
    documents = documented_policies()
    assert len(documents) >= 4
    for number, document in enumerate(documents, start=1):
        assert compile_policy(f"docs {number}", json.dumps(document)).warnings == ()


# -- the credentials file ----------------------------------------------------------------


def _file(tmp_path, body: str):
    path = tmp_path / "credentials.toml"
    path.write_text(body)
    return path


KEY = '[[keys]]\naccess_key_id = "AKIA1"\nsecret_access_key = "s"\naccount_id = "111111111111"\n'


def test_policies_come_from_documents_or_files_beside_the_file(tmp_path):
    (tmp_path / "read.json").write_text(
        policy({"Effect": "Allow", "Action": "sagemaker:Describe*", "Resource": "*"})
    )
    path = _file(
        tmp_path,
        KEY + 'principal = "arn:aws:iam::111111111111:user/ci"\npolicies = ["read", "lsit"]\n'
        '[policies.read]\nfile = "read.json"\n'
        '[policies.lsit]\ndocument = \'{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sagemaker:Lsit*", "Resource": "*"}}\'\n',
    )
    loaded = load_credentials(path)
    key = loaded.keys["AKIA1"]
    assert key.principal is not None and key.principal.username == "ci"
    assert key.principal.refusal("DescribeImage", IMAGE, {}) is None
    assert loaded.warnings == (
        "policy lsit, statement 1: sagemaker:Lsit* matches no SageMaker action",
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('principal = "arn:aws:iam::222222222222:user/ci"\n', "is not in account 111111111111"),
        ('principal = "ci"\n', "principal must be an IAM user or role ARN"),
        (
            'principal = "arn:aws:iam::111111111111:user/ci"\npolicies = ["absent"]\n',
            "policy absent is not defined",
        ),
        ('policies = ["read"]\n', "policies need a principal"),
        (
            'principal = "arn:aws:iam::111111111111:user/ci"\npermissions_boundary = "absent"\n',
            "permissions_boundary absent is not defined",
        ),
        (
            'principal = "arn:aws:iam::111111111111:user/ci"\ninline_policy = "{}"\n',
            "inline_policy of arn:aws:iam::111111111111:user/ci: missing Statement",
        ),
    ],
)
def test_unusable_keys_are_errors(tmp_path, extra, message):
    with pytest.raises(CredentialsError, match=message):
        load_credentials(_file(tmp_path, KEY + extra))


def test_a_broken_policy_says_where(tmp_path):
    path = _file(
        tmp_path, KEY + '[policies.read-only]\ndocument = \'{"Statement": {"Effect": "Maybe"}}\'\n'
    )
    with pytest.raises(CredentialsError) as caught:
        load_credentials(path)
    assert (
        str(caught.value)
        == f"credentials file {path}, policy read-only, statement 1: Effect must be Allow or Deny"
    )
