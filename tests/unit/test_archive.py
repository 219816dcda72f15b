"""The export format: what is written reads back the same, and a bad file is refused whole
with the line that is wrong."""

from __future__ import annotations

import json

import pytest
from support import image_record

from sagemaker_images.data import archive
from sagemaker_images.records import AppImageConfigRecord, ImageRecord, VersionRecord


def _image(name: str = "Training", last_version: int = 3) -> ImageRecord:
    return image_record(
        name,
        id=7,
        description="GPU",
        created_ms=1_700_000_000_123,
        modified_ms=1_700_000_000_456,
        last_version=last_version,
        version_count=2,
    )


def _version(number: int, status: str = "CREATED") -> VersionRecord:
    return VersionRecord(
        image_id=7,
        version=number,
        base_image=f"r/x:{number}",
        container_image=f"r/x@sha256:{'a' * 64}" if status == "CREATED" else None,
        status=status,
        failure_reason=None,
        vendor_guidance=None,
        job_type="TRAINING",
        ml_framework=None,
        programming_lang=None,
        processor="GPU",
        horovod=False,
        release_notes=None,
        created_ms=1_700_000_000_789,
        modified_ms=1_700_000_000_789,
    )


def _config() -> AppImageConfigRecord:
    return AppImageConfigRecord(
        id=3,
        account="123456789012",
        region="us-east-1",
        name="kernels",
        name_key="kernels",
        kernel_gateway={"KernelSpecs": [{"Name": "python3"}]},
        jupyter_lab=None,
        code_editor=None,
        created_ms=1,
        modified_ms=2,
    )


def _written() -> list[bytes]:
    image = archive.ImageEntry(
        _image(),
        {"team": "ml"},
        [
            archive.VersionEntry(_version(1), ["stable"]),
            archive.VersionEntry(_version(3, "CREATING"), [], due_ms=1_700_000_001_000),
        ],
    )
    return [
        archive.header(None, 0),
        *archive.image_lines(image),
        archive.config_line(archive.ConfigEntry(_config(), {"a": "b"})),
        archive.end(1, 2, 1),
    ]


def test_what_is_written_reads_back():
    catalog = archive.read(_written())
    (image,) = catalog.images
    assert image.record.name == "Training" and image.record.name_key == "training"
    assert image.record.last_version == 3 and image.tags == {"team": "ml"}
    assert [v.record.version for v in image.versions] == [1, 3]
    assert image.versions[0].aliases == ["stable"]
    assert image.versions[0].record.container_image == _version(1).container_image
    assert image.versions[1].due_ms == 1_700_000_001_000
    assert image.versions[0].record.horovod is False
    (config,) = catalog.configs
    assert config.record.kernel_gateway == {"KernelSpecs": [{"Name": "python3"}]}
    assert config.tags == {"a": "b"}


def test_row_ids_and_derived_columns_are_not_written():
    image = json.loads(_written()[1])
    assert not {"id", "name_key", "version_count", "image_id"} & set(image)
    assert image["created_ms"] == 1_700_000_000_123


def _edited(number: int, **changes: object) -> list[bytes]:
    lines = _written()
    value = json.loads(lines[number - 1])
    value.update(changes)
    lines[number - 1] = json.dumps(value).encode()
    return lines


@pytest.mark.parametrize(
    ("lines", "complaint"),
    [
        ([], "the file is empty: no header line"),
        (_written()[:-1], "the file is truncated: no end line (it stops at line 5)"),
        ([*_written(), b'{"kind": "image"}'], "line 7: text after the end line"),
        (
            [*_written()[:2], b"{not json"],
            "line 3: not JSON (unexpected character, expected a string key at column 2)",
        ),
        ([*_written()[:2], b"[1, 2]"], "line 3: not a JSON object"),
        (_edited(1, version=2), "line 1: format version 2; this release reads 1"),
        (_edited(2, status="GREAT"), "line 2: unknown image status 'GREAT'"),
        (_edited(2, created_ms="yesterday"), "line 2: created_ms must be int, not 'yesterday'"),
        (_edited(2, role_arn=None), "line 2: role_arn must be str, not None"),
        (_edited(2, extra=1), "line 2: unknown fields ['extra']"),
        (_edited(3, horovod="yes"), "line 3: horovod must be bool, not 'yes'"),
        (_edited(3, version=True), "line 3: version must be int, not True"),
        (_edited(3, version=4), "line 3: version 4 is not in 1..3"),
        (_edited(3, image="Other"), "line 3: a version that does not follow its image"),
        (_edited(4, version=1), "line 4: version 1 of Training appears twice"),
        (_edited(4, aliases=["stable"]), "line 4: an alias of Training names two versions"),
        (_edited(5, tags=["a"]), "line 5: tags must be an object of strings"),
        (_edited(6, versions=3), "line 6: the end line counts (1, 3, 1), the file holds (1, 2, 1)"),
        (_edited(5, kind="bucket"), "line 5: unknown kind 'bucket'"),
        (
            [*_written()[:4], *_written()[1:2], _written()[-1]],
            "line 5: Training appears twice in account 123456789012, us-east-1",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(lines, complaint):
    with pytest.raises(archive.BadArchive) as refused:
        archive.read(lines)
    assert str(refused.value) == complaint
