"""Constraint violations: every one reported, in AWS's words, and nothing written."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from support import ROLE, create_image, error_of, raw_call

# The validator runs before any database: one backend is enough, but for values that the
# databases themselves would treat differently.
pytestmark = pytest.mark.backends("sqlite")
EVERY_BACKEND = pytest.mark.backends("sqlite", "postgresql")

PATTERN = "[a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}"


@pytest.fixture
def lax(server, region):
    """A client that skips botocore's own checks (min length, required), as other SDKs do."""
    return server.client(region, parameter_validation=False)


def test_max_length(sm):
    text = "d" * 513
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="long-description", RoleArn=ROLE, Description=text)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        f"1 validation error detected: Value '{text}' at 'description' failed to satisfy"
        " constraint: Member must have length less than or equal to 512"
    )
    assert sm.list_images()["Images"] == []


def test_pattern(sm):
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image(ImageName="bad_name")
    assert error_of(excinfo)[1] == (
        "1 validation error detected: Value 'bad_name' at 'imageName' failed to satisfy"
        f" constraint: Member must satisfy regular expression pattern: {PATTERN}"
    )


def test_enum(sm):
    with pytest.raises(ClientError) as excinfo:
        sm.list_images(SortOrder="SIDEWAYS")
    assert error_of(excinfo)[1] == (
        "1 validation error detected: Value 'SIDEWAYS' at 'sortOrder' failed to satisfy"
        " constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]"
    )


def test_several_violations_are_reported_together(sm):
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(
            ImageName="no_underscores",
            RoleArn="arn:aws:iam::123:role/short",
            DisplayName=" padded ",
            Description="d" * 513,
        )
    message = error_of(excinfo)[1]
    assert message.startswith("4 validation errors detected: ")
    parts = message.removeprefix("4 validation errors detected: ").split("; ")
    assert len(parts) == 4
    assert any("at 'imageName'" in p and "regular expression" in p for p in parts)
    assert any("at 'roleArn'" in p and "regular expression" in p for p in parts)
    assert any(
        "at 'displayName'" in p and "regular expression pattern: \\S(.*\\S)?" in p for p in parts
    )
    assert any("at 'description'" in p and "length less than or equal to 512" in p for p in parts)
    assert sm.list_images()["Images"] == []


def test_one_value_breaking_two_rules_is_two_violations(sm):
    # As AWS does (zenml-io/zenml#1502): a 64+ character name breaks both the length and
    # the pattern, whose {0,62} also bounds the length.
    name = "x" * 70
    with pytest.raises(ClientError) as excinfo:
        sm.describe_image(ImageName=name)
    message = error_of(excinfo)[1]
    assert message.startswith("2 validation errors detected: ")
    assert "length less than or equal to 63" in message
    assert "regular expression pattern" in message


def test_required_members_and_min_length(lax):
    with pytest.raises(ClientError) as excinfo:
        lax.create_image(ImageName="")
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith("3 validation errors detected: ")
    assert (
        "Value '' at 'imageName' failed to satisfy constraint: Member must have length greater than or equal to 1"
        in message
    )
    assert (
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in message
    )


@pytest.mark.parametrize(
    ("value", "rule"), [(0, "greater than or equal to 1"), (101, "less than or equal to 100")]
)
def test_integer_range(lax, value, rule):
    with pytest.raises(ClientError) as excinfo:
        lax.list_images(MaxResults=value)
    assert error_of(excinfo)[1] == (
        f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy"
        f" constraint: Member must have value {rule}"
    )


def test_list_members_have_indexed_paths(sm):
    create_image(sm, "aliased")
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(
            ImageName="aliased", BaseImage="r/x:1", Aliases=["good", "-bad", "also good"]
        )
    message = error_of(excinfo)[1]
    assert message.startswith("2 validation errors detected: ")
    assert "Value '-bad' at 'aliases.2.member' failed to satisfy constraint" in message
    assert "Value 'also good' at 'aliases.3.member' failed to satisfy constraint" in message
    assert sm.list_image_versions(ImageName="aliased")["ImageVersions"] == []


def test_nested_structure_paths(sm):
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="tagged", RoleArn=ROLE, Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert (
        "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"
        in error_of(excinfo)[1]
    )


def test_list_size(sm):
    with pytest.raises(ClientError) as excinfo:
        sm.update_image(
            ImageName="anything", DeleteProperties=["DisplayName", "Description", "DisplayName"]
        )
    assert (
        "at 'deleteProperties' failed to satisfy constraint: Member must have length less than or equal to 2"
        in error_of(excinfo)[1]
    )


def test_java_regex_semantics(sm):
    create_image(sm, "regexes")
    # Java's \d is ASCII-only: an Arabic-Indic digit does not satisfy MLFramework's pattern.
    with pytest.raises(ClientError) as excinfo:
        sm.create_image_version(
            ImageName="regexes", BaseImage="r/x:1", MLFramework="PyTorch \u0662.\u0660"
        )
    assert "at 'mLFramework'" in error_of(excinfo)[1]
    # A look-ahead: an alias may not start with '.' or '-', but may contain them.
    number_arn = sm.create_image_version(
        ImageName="regexes", BaseImage="r/x:1", Aliases=["v1.2-rc_1"], MLFramework="PyTorch 2.1"
    )["ImageVersionArn"]
    assert number_arn.endswith("/1")


def test_unicode_tag_classes_are_accepted(sm):
    tags = [{"Key": "équipe", "Value": "données 2024"}, {"Key": "名前", "Value": "値 ٣"}]
    arn = sm.create_image(ImageName="unicode-tags", RoleArn=ROLE, Tags=tags)["ImageArn"]
    assert sorted(sm.list_tags(ResourceArn=arn)["Tags"], key=lambda t: t["Key"]) == sorted(
        tags, key=lambda t: t["Key"]
    )


def test_empty_name_contains_fails_the_pattern_not_the_length(lax):
    with pytest.raises(ClientError) as excinfo:
        lax.list_images(NameContains="")
    message = error_of(excinfo)[1]
    assert message.startswith("1 validation error detected: ")
    assert "regular expression pattern: [a-zA-Z0-9\\-.]+" in message


@EVERY_BACKEND
def test_nul_characters_are_refused_on_every_backend(sm):
    with pytest.raises(ClientError) as excinfo:
        sm.create_image(ImageName="nul", RoleArn=ROLE, Description="x\x00y")
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "at 'description' failed to satisfy constraint: Member must not contain" in message
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_image(ImageName="nul")


@EVERY_BACKEND
def test_time_filters_far_beyond_any_date_are_no_bound(server, sm, region):
    create_image(sm, "timeless")

    def listed(operation, body):  # botocore itself cannot send such dates
        status, _, answer = raw_call(server, f"SageMaker.{operation}", body, region=region)
        assert status == 200, answer
        return answer

    assert listed("ListImages", {"CreationTimeBefore": 1e300})["Images"][0]["ImageName"] == (
        "timeless"
    )
    assert listed("ListImages", {"CreationTimeAfter": 1e300})["Images"] == []
    assert listed("ListAppImageConfigs", {"ModifiedTimeBefore": -1e300})["AppImageConfigs"] == []


@EVERY_BACKEND
def test_forged_tokens_carrying_unstorable_keys_are_invalid(sm):
    import base64
    import json

    create_image(sm, "a1")
    create_image(sm, "a2")
    real = sm.list_images(MaxResults=1, SortBy="IMAGE_NAME")["NextToken"]
    fmt, digest, _ = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    for key in (["a\x00"], [2**70]):
        forged = base64.urlsafe_b64encode(json.dumps([fmt, digest, key]).encode()).decode()
        with pytest.raises(ClientError) as excinfo:
            sm.list_images(MaxResults=1, SortBy="IMAGE_NAME", NextToken=forged)
        assert error_of(excinfo) == ("ValidationException", "Invalid pagination token", 400)
