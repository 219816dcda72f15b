"""Each kind of resource declared once: what derives from the declarations holds together."""

from __future__ import annotations

from dataclasses import fields

import pytest

from sagemaker_images.catalog.common import Handlers, Runtime
from sagemaker_images.catalog.service import handlers
from sagemaker_images.config import Settings
from sagemaker_images.resources.arns import parse
from sagemaker_images.resources.kinds import (
    IMAGE,
    JOB_KINDS,
    KINDS,
    OPERATIONS,
    TAG_OPERATIONS,
    USER_PROFILE,
    VERSION,
    jobs_of_subject,
    kind_of_arn_type,
    snake_case,
)
from sagemaker_images.resources.records import columns_of


def test_every_operation_is_served_by_the_method_of_its_name():
    class _Store:
        reader = None

    served = handlers(Runtime(_Store(), Settings()))  # type: ignore[arg-type]
    assert tuple(served) == OPERATIONS
    assert served["DescribeImageVersion"].__name__ == "describe_image_version"
    assert served["ListAliases"].__self__.kind is VERSION
    assert set(TAG_OPERATIONS) <= set(served)
    assert len({cls for cls in Handlers.every if cls.served()}) == len(KINDS) + 1  # + tags


def test_snake_case_is_boto3s():
    assert snake_case("ListAppImageConfigs") == "list_app_image_configs"
    assert snake_case("DescribeImageVersion") == "describe_image_version"


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_an_arn_of_each_kind_reads_back_to_its_kind_and_path(kind):
    values = {
        "name_key": "Mixed",
        "domain_id": "d-abc",
        "version": 7,
        "owner": "Alice-B",
        "owner_key": "Alice-B",
        "type_key": "jupyterlab",
        "name": "Mixed-Name",
    }
    path = tuple(values[column] for column in kind.arn_path)
    arn = kind.arn("eu-west-1", "111122223333", *path)
    parsed = parse(arn)
    assert parsed is not None and kind_of_arn_type(parsed.resource_type) is kind
    # The ARN's segments find the resource by its key: names compared ignoring case
    # (`_key` columns) read lower-cased, the rest as written.
    assert kind.segments(parsed.resource_id) == tuple(
        str(values[c]).lower() if c.endswith("_key") else str(values[c]) for c in kind.path
    )
    assert arn.startswith(kind.arn_prefix("eu-west-1", "111122223333", *path[:-1]))
    assert kind.segments(parsed.resource_id + "/extra") is None


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_each_kind_names_real_columns_and_settings(kind):
    columns = {column.name: column for column in columns_of(kind.record)}
    assert set(kind.key) <= set(columns)
    if kind.quota is not None:
        setting = next(f for f in fields(Settings) if f.name == kind.quota.setting)
        assert setting.type in (int, "int")
    if kind.transitions is not None:
        assert "status" in columns
        for step in kind.transitions.steps.values():
            assert {step.busy, step.failed} <= {s.value for s in kind.transitions.statuses}


def test_job_kinds_name_the_row_they_finish():
    assert JOB_KINDS["version.create"] is VERSION
    assert jobs_of_subject(IMAGE) == (
        "image.create",
        "image.update",
        "image.delete",
        "version.create",
        "version.delete",
    )
    assert jobs_of_subject(USER_PROFILE) == (
        "user_profile.create",
        "user_profile.update",
        "user_profile.delete",
    )
