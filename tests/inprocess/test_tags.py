"""AddTags, ListTags, DeleteTags, and Tags given to CreateImage and CreateAppImageConfig."""

from __future__ import annotations

import pytest
from support import ROLE, create_image, error_of, image_status, raw_call, wait_until


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def listed(sm, arn: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in sm.list_tags(ResourceArn=arn)["Tags"]}


def test_tags_given_at_creation_are_listed(sm):
    image_arn = create_image(sm, "tagged", Tags=tags(team="ml", env="dev"))
    config_arn = sm.create_app_image_config(
        AppImageConfigName="tagged", Tags=tags(owner="platform")
    )["AppImageConfigArn"]
    assert listed(sm, image_arn) == {"team": "ml", "env": "dev"}
    assert listed(sm, config_arn) == {"owner": "platform"}


def test_add_overwrites_and_answers_with_what_it_was_sent(sm):
    arn = sm.create_app_image_config(AppImageConfigName="cfg", Tags=tags(a="1", b="2"))[
        "AppImageConfigArn"
    ]
    sent = [*tags(b="two", c="3"), {"Key": "with space:/=+-@_.", "Value": ""}]
    assert sm.add_tags(ResourceArn=arn, Tags=sent)["Tags"] == sent
    assert listed(sm, arn) == {"a": "1", "b": "two", "c": "3", "with space:/=+-@_.": ""}


def test_delete_removes_keys_and_ignores_absent_ones(sm):
    arn = create_image(sm, "img", Tags=tags(a="1", b="2", c="3"))
    sm.delete_tags(ResourceArn=arn, TagKeys=["a", "c", "never-there"])
    assert listed(sm, arn) == {"b": "2"}


def test_an_image_is_tagged_while_creating(slow_server, region):
    sm = slow_server.client(region)
    arn = sm.create_image(ImageName="busy", RoleArn=ROLE)["ImageArn"]
    assert sm.describe_image(ImageName="busy")["ImageStatus"] == "CREATING"
    sm.add_tags(ResourceArn=arn, Tags=tags(k="v"))
    assert listed(sm, arn) == {"k": "v"}


def test_fifty_tags_at_most(sm):
    arn = create_image(sm, "many", Tags=[{"Key": f"k{i:02}", "Value": str(i)} for i in range(45)])
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i:02}", "Value": "x"} for i in range(40, 50)])
    page = sm.list_tags(ResourceArn=arn, MaxResults=50)
    assert len(page["Tags"]) == 50 and "NextToken" not in page
    assert [t["Key"] for t in page["Tags"]] == [f"k{i:02}" for i in range(50)]

    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.add_tags(ResourceArn=arn, Tags=tags(k00="overwrite", extra="1"))
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "at most 50 tags" in message
    assert listed(sm, arn)["k00"] == "0"  # nothing written


def test_reserved_prefix_is_refused_and_nothing_written(sm):
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.create_app_image_config(AppImageConfigName="cfg", Tags=tags(**{"aws:owner": "me"}))
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "aws:" in message
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_app_image_config(AppImageConfigName="cfg")

    with pytest.raises(sm.exceptions.ClientError):
        sm.create_image(ImageName="img", RoleArn=ROLE, Tags=tags(**{"AWS:x": "y"}))
    assert image_status(sm, "img") is None

    arn = create_image(sm, "img")
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.add_tags(ResourceArn=arn, Tags=tags(ok="1", **{"aws:cloudformation:stack": "s"}))
    assert error_of(excinfo)[0] == "ValidationException"
    assert listed(sm, arn) == {}


def test_resources_that_do_not_exist(sm, region):
    create_image(sm, "real")
    missing = [
        f"arn:aws:sagemaker:{region}:123456789012:image/not-there",
        f"arn:aws:sagemaker:{region}:123456789012:app-image-config/not-there",
        f"arn:aws:sagemaker:{region}:999999999999:image/real",  # another account
        "arn:aws:sagemaker:us-west-2:123456789012:image/real",  # another region
        f"arn:aws:sagemaker:{region}:123456789012:image-version/real/1",
        f"arn:aws:sagemaker:{region}:123456789012:training-job/real",
    ]
    calls = (
        lambda arn: sm.list_tags(ResourceArn=arn),
        lambda arn: sm.add_tags(ResourceArn=arn, Tags=tags(a="b")),
        lambda arn: sm.delete_tags(ResourceArn=arn, TagKeys=["a"]),
    )
    for arn in missing:
        for call in calls:
            with pytest.raises(sm.exceptions.ClientError) as excinfo:
                call(arn)
            assert error_of(excinfo) == ("ValidationException", "Resource does not exist", 400)


def test_arn_of_another_service_fails_validation(sm):
    with pytest.raises(sm.exceptions.ClientError) as excinfo:
        sm.list_tags(ResourceArn="arn:aws:s3:::bucket")
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert "at 'resourceArn' failed to satisfy constraint: Member must satisfy regular" in message


def test_list_tags_page_size_has_a_minimum_of_fifty(server, region):
    arn = f"arn:aws:sagemaker:{region}:123456789012:image/x"
    status, _, body = raw_call(
        server, "SageMaker.ListTags", {"ResourceArn": arn, "MaxResults": 10}, region=region
    )
    assert status == 400
    assert body["__type"] == "ValidationException"
    assert "Member must have value greater than or equal to 50" in body["message"]


def test_tags_go_with_their_resource(sm):
    config_arn = sm.create_app_image_config(AppImageConfigName="cfg", Tags=tags(a="1"))[
        "AppImageConfigArn"
    ]
    sm.delete_app_image_config(AppImageConfigName="cfg")
    assert sm.create_app_image_config(AppImageConfigName="cfg")["AppImageConfigArn"] == config_arn
    assert listed(sm, config_arn) == {}

    image_arn = create_image(sm, "img", Tags=tags(a="1"))
    sm.delete_image(ImageName="img")
    wait_until(lambda: image_status(sm, "img") is None)
    with pytest.raises(sm.exceptions.ClientError):
        sm.list_tags(ResourceArn=image_arn)
    assert create_image(sm, "img") == image_arn
    assert listed(sm, image_arn) == {}


def test_upper_case_names_are_found_through_their_arn(sm, region):
    arn = create_image(sm, "MixedCase", Tags=tags(a="1"))
    assert arn.endswith(":image/mixedcase")
    assert listed(sm, arn) == {"a": "1"}
    assert listed(sm, f"arn:aws:sagemaker:{region}:123456789012:image/MixedCase") == {"a": "1"}
