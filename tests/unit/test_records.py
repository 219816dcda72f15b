"""What the declarations of records derive: table SQL, row conversions, answers."""

from __future__ import annotations

from sagemaker_images.catalog.answers import Wire
from sagemaker_images.resources.kinds import APP_IMAGE_CONFIG, IMAGE, VERSION
from sagemaker_images.resources.records import (
    ImageRecord,
    VersionRecord,
    columns_of,
)
from sagemaker_images.store.rows import table_of
from sagemaker_images.store.versions import LISTED, VERSIONS

IMAGES = table_of(IMAGE)
APP_IMAGE_CONFIGS = table_of(APP_IMAGE_CONFIG)


def test_columns_follow_the_declaration_in_order():
    names = [c.name for c in columns_of(VersionRecord)]
    assert names[:3] == ["image_id", "version", "base_image"]
    horovod = next(c for c in columns_of(VersionRecord) if c.name == "horovod")
    assert (horovod.type, horovod.optional, horovod.member) == (bool, True, "Horovod")
    assert LISTED == ("version", "status", "failure_reason", "created_ms", "modified_ms")


def test_inserts_leave_generated_keys_to_the_database():
    assert IMAGES.insert_sql.startswith("INSERT INTO images (account, region, name, name_key,")
    assert IMAGES.insert_sql.endswith("RETURNING id")
    assert IMAGES.insert_sql.count("?") == len(columns_of(ImageRecord)) - 1
    assert VERSIONS.insert_sql.count("?") == len(columns_of(VersionRecord))
    assert "RETURNING" not in VERSIONS.insert_sql


def test_booleans_and_documents_are_converted_both_ways():
    row = [1, 1, "b", None, "CREATED", None, None, None, None, None, None, 0, None, 5, 6]
    record = VERSIONS.record(row)
    assert record.horovod is False
    assert VERSIONS.insert_params(record)[11] == 0
    config = APP_IMAGE_CONFIGS.record(
        [1, "a", "r", "N", "n", '{"KernelSpecs": [{"Name": "p"}]}', None, None, 1, 2]
    )
    assert config.kernel_gateway == {"KernelSpecs": [{"Name": "p"}]}
    assert APP_IMAGE_CONFIGS.insert_params(config)[4] == '{"KernelSpecs":[{"Name":"p"}]}'
    assignments, params = APP_IMAGE_CONFIGS.assignments({"jupyter_lab": {"A": 1}, "modified_ms": 3})
    assert (assignments, params) == ("jupyter_lab = ?, modified_ms = ?", ['{"A":1}', 3])


def test_answers_carry_present_members_under_their_wire_names():
    image = ImageRecord(
        7, "a", "r", "Name", "name", None, "Shown", "role", "CREATED", None, 1, 2, 0, 0
    )
    members = Wire(IMAGE)
    assert members.described(image, "arn:image/") == {
        "ImageArn": "arn:image/name",
        "ImageName": "Name",
        "DisplayName": "Shown",
        "RoleArn": "role",
        "ImageStatus": "CREATED",
        "CreationTime": 1,
        "LastModifiedTime": 2,
    }
    assert "RoleArn" not in members.listed(image, "arn:image/")
    versions = Wire(VERSION, shared=("ImageArn",))
    rows = [(3, "CREATE_FAILED", "why", 10, 11), (4, "CREATED", None, 12, 12)]
    assert versions.listed_rows(rows, "arn:v/", "arn:i") == [
        {
            "ImageArn": "arn:i",
            "ImageVersionArn": "arn:v/3",
            "Version": 3,
            "ImageVersionStatus": "CREATE_FAILED",
            "FailureReason": "why",
            "CreationTime": 10,
            "LastModifiedTime": 11,
        },
        {
            "ImageArn": "arn:i",
            "ImageVersionArn": "arn:v/4",
            "Version": 4,
            "ImageVersionStatus": "CREATED",
            "CreationTime": 12,
            "LastModifiedTime": 12,
        },
    ]


def test_requests_give_and_change_the_declared_members():
    request = {"ImageName": "n", "RoleArn": "r", "Description": "d", "Tags": []}
    images = Wire(IMAGE)
    assert images.given(request) == {
        "name": "n",
        "description": "d",
        "display_name": None,
        "role_arn": "r",
    }
    assert images.changes(request) == {"description": "d", "role_arn": "r"}
    assert Wire(APP_IMAGE_CONFIG).changes({"JupyterLabAppImageConfig": {}}) == {"jupyter_lab": {}}
