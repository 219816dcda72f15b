"""The export format: what is written reads back the same, and a bad file is refused whole
with the line that is wrong."""

from __future__ import annotations

import json

import pytest
from support import image_record

from sagemaker_images.data import archive
from sagemaker_images.resources.records import (
    AppImageConfigRecord,
    DomainRecord,
    ImageRecord,
    LifecycleConfigRecord,
    UserProfileRecord,
    VersionRecord,
)


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
        archive.entry_line("app_image_config", archive.Entry(_config(), {"a": "b"})),
        archive.end((1, 2, 1, 0, 0, 0, 0)),
    ]


def _domain() -> DomainRecord:
    return DomainRecord(
        id=4,
        account="123456789012",
        region="us-east-1",
        domain_id="d-abcdefghijkl",
        name="Studio",
        name_key="studio",
        auth_mode="IAM",
        default_user_settings={"KernelGatewayAppSettings": {"CustomImages": []}},
        domain_settings=None,
        default_space_settings=None,
        subnet_ids=["subnet-1", "subnet-2"],
        vpc_id="vpc-1",
        app_network_access_type="PublicInternetOnly",
        home_efs_kms_key_id=None,
        kms_key_id=None,
        app_security_group_management=None,
        tag_propagation="DISABLED",
        home_efs_file_system_id="fs-0123456789abcdef0",
        url="https://d-abcdefghijkl.studio.us-east-1.sagemaker.aws",
        sso_instance_id=None,
        sso_application_arn=None,
        boundary_security_group=None,
        status="Updating",
        failure_reason=None,
        created_ms=1,
        modified_ms=2,
        home_efs_creation="Enabled",
        last_uid=200_001,
    )


def _profile(domain_id: str = "d-abcdefghijkl") -> UserProfileRecord:
    return UserProfileRecord(
        id=5,
        account="123456789012",
        region="us-east-1",
        domain_id=domain_id,
        name="Alice",
        name_key="alice",
        sso_user_identifier=None,
        sso_user_value=None,
        user_settings=None,
        home_efs_uid="200001",
        status="InService",
        failure_reason=None,
        created_ms=3,
        modified_ms=3,
    )


def _with_studio() -> list[bytes]:
    return [
        *_written()[:-1],
        archive.entry_line("domain", archive.Entry(_domain(), {"k": "v"}, due_ms=99)),
        archive.entry_line("user_profile", archive.Entry(_profile())),
        archive.end((1, 2, 1, 0, 1, 1, 0)),
    ]


def test_studio_resources_read_back():
    catalog = archive.read(_with_studio())
    (domain,) = catalog.entries["domain"]
    assert domain.record.subnet_ids == ["subnet-1", "subnet-2"]
    assert (domain.record.name_key, domain.record.last_uid, domain.due_ms) == (
        "studio",
        200_001,
        99,
    )
    assert domain.tags == {"k": "v"}
    (profile,) = catalog.entries["user_profile"]
    assert (profile.record.name, profile.record.home_efs_uid) == ("Alice", "200001")


def test_a_version_1_file_reads():
    lines = _written()
    header = json.loads(lines[0])
    lines[0] = json.dumps({**header, "version": 1}).encode()
    end = json.loads(lines[-1])
    lines[-1] = json.dumps(
        {k: end[k] for k in ("kind", "images", "versions", "app_image_configs")}
    ).encode()
    catalog = archive.read(lines)
    assert len(catalog.images) == 1 and len(catalog.entries["app_image_config"]) == 1


def _lifecycle_config() -> LifecycleConfigRecord:
    return LifecycleConfigRecord(
        id=9,
        account="123456789012",
        region="us-east-1",
        name="On-Start",
        name_key="on-start",
        content="ZWNobyBIZWxsbw==",
        app_type="JupyterLab",
        created_ms=5,
        modified_ms=5,
    )


def test_a_version_2_file_reads_and_holds_no_lifecycle_config():
    lines = _with_studio()
    header = json.loads(lines[0])
    lines[0] = json.dumps({**header, "version": 2}).encode()
    end = json.loads(lines[-1])
    del end["studio_lifecycle_configs"]
    lines[-1] = json.dumps(end).encode()
    domain = json.loads(lines[5])
    del domain["home_efs_creation"]  # not in version 2 files: their domains had one
    lines[5] = json.dumps(domain).encode()
    catalog = archive.read(lines)
    assert catalog.entries["domain"][0].record.home_efs_creation == "Enabled"
    assert len(catalog.entries["user_profile"]) == 1
    config = archive.entry_line("studio_lifecycle_config", archive.Entry(_lifecycle_config()))
    with pytest.raises(archive.BadArchive, match="line 8: unknown kind 'studio_lifecycle_config'"):
        archive.read([*lines[:-1], config, lines[-1]])


def test_lifecycle_configs_read_back():
    lines = [
        *_written()[:-1],
        archive.entry_line(
            "studio_lifecycle_config", archive.Entry(_lifecycle_config(), {"team": "ml"})
        ),
        archive.end((1, 2, 1, 1, 0, 0, 0)),
    ]
    (config,) = archive.read(lines).entries["studio_lifecycle_config"]
    assert config.tags == {"team": "ml"}
    assert (config.record.name, config.record.name_key, config.record.content) == (
        "On-Start",
        "on-start",
        "ZWNobyBIZWxsbw==",
    )
    assert "transition_due_ms" not in json.loads(lines[-2])


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
    (config,) = catalog.entries["app_image_config"]
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
        (_edited(1, version=4), "line 1: format version 4; this release reads (1, 2, 3)"),
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
        (
            _edited(6, versions=3),
            "line 6: the end line counts (1, 3, 1, 0, 0, 0, 0), the file holds (1, 2, 1, 0, 0, 0, 0)",
        ),
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


def test_studio_lines_are_checked():
    orphan = [
        *_written()[:-1],
        archive.entry_line("user_profile", archive.Entry(_profile())),
        archive.end((1, 2, 1, 0, 0, 1, 0)),
    ]
    with pytest.raises(archive.BadArchive, match="line 6: a user profile before its domain"):
        archive.read(orphan)
    lines = _with_studio()
    domain = json.loads(lines[5])
    lines[5] = json.dumps({**domain, "status": "CREATED"}).encode()
    with pytest.raises(archive.BadArchive, match="line 6: unknown domain status 'CREATED'"):
        archive.read(lines)
