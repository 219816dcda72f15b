"""What each resource holds, declared once.

A record is a slotted dataclass whose fields are its table's columns, in order. Each field
says, in one line, the wire member that carries it (none for bookkeeping columns), whether
the caller gives it at creation (`create`), whether an Update call may change it
(`update`), and whether list calls show it (`listed`). Its annotation is its type: `bool`
and `dict` and `list` columns are stored as an integer and as JSON text.

Everything else derives from these declarations: the store's column lists, inserts,
updates and row conversions (`store/tables.py`), the catalog's answers, the values a new
record takes from a request, and the sort keys of list calls. Adding a member is a
migration and one line here.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import Any

# A ClientToken makes CreateImageVersion idempotent for this long.
CLIENT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000
# The first HomeEfsFileSystemUid a domain hands out is one more than this (AWS's: 200001).
FIRST_UID = 200_000


def stored(
    member: str | None = None,
    *,
    create: bool = False,
    update: bool = False,
    listed: bool = False,
    generated: bool = False,
    default: Any = MISSING,
) -> Any:
    """Declare a column: its wire `member`, and how requests and listings use it.

    `generated`: the database assigns it on insert (an auto-numbered key). `default`: the
    value of a bookkeeping column in a new record (only for the last columns).
    """
    return field(
        default=default,
        metadata={
            "member": member,
            "create": create,
            "update": update,
            "listed": listed,
            "generated": generated,
        },
    )


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: type  # str, int, bool or dict
    optional: bool
    member: str | None
    create: bool
    update: bool
    listed: bool
    generated: bool


def columns_of(record_type: type) -> tuple[Column, ...]:
    """The declared columns of a record type, in table order."""
    return _columns(record_type)


@cache
def _columns(record_type: type) -> tuple[Column, ...]:
    hints = typing.get_type_hints(record_type)
    found = []
    for declared in fields(record_type):
        base, optional = _base_type(hints[declared.name])
        meta = declared.metadata
        found.append(
            Column(
                name=declared.name,
                type=base,
                optional=optional,
                member=meta.get("member"),
                create=meta.get("create", False),
                update=meta.get("update", False),
                listed=meta.get("listed", False),
                generated=meta.get("generated", False),
            )
        )
    return tuple(found)


def listed_columns(record_type: type) -> tuple[Column, ...]:
    """The columns list calls show, in table order: what a listing's rows hold."""
    return tuple(column for column in columns_of(record_type) if column.listed)


def column_types(record_type: type, names: typing.Sequence[str]) -> tuple[type, ...]:
    by_name = {column.name: column.type for column in columns_of(record_type)}
    return tuple(by_name[name] for name in names)


def _base_type(hint: Any) -> tuple[type, bool]:
    """(`str`, True) for `str | None`; the origin of a generic (`dict[str, Any]` -> dict)."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        present = [arg for arg in args if arg is not type(None)]
        if len(present) != 1:
            raise TypeError(f"a column is one type or None, not {hint}")
        return _base_type(present[0])[0], True
    origin = typing.get_origin(hint)
    return (origin or hint), False


@dataclass(slots=True)
class ImageRecord:
    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    name: str = stored("ImageName", create=True, listed=True)
    name_key: str = stored()  # the lower-cased name: names are unique case-insensitively
    description: str | None = stored("Description", create=True, update=True, listed=True)
    display_name: str | None = stored("DisplayName", create=True, update=True, listed=True)
    role_arn: str = stored("RoleArn", create=True, update=True)
    status: str = stored("ImageStatus", listed=True)
    failure_reason: str | None = stored("FailureReason", listed=True)
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)
    last_version: int = stored()  # the highest number ever handed out: never reused
    version_count: int = stored()


@dataclass(slots=True)
class VersionRecord:
    image_id: int = stored()
    version: int = stored("Version", listed=True)
    base_image: str = stored("BaseImage", create=True)
    container_image: str | None = stored("ContainerImage")
    status: str = stored("ImageVersionStatus", listed=True)
    failure_reason: str | None = stored("FailureReason", listed=True)
    vendor_guidance: str | None = stored("VendorGuidance", create=True, update=True)
    job_type: str | None = stored("JobType", create=True, update=True)
    ml_framework: str | None = stored("MLFramework", create=True, update=True)
    programming_lang: str | None = stored("ProgrammingLang", create=True, update=True)
    processor: str | None = stored("Processor", create=True, update=True)
    horovod: bool | None = stored("Horovod", create=True, update=True)
    release_notes: str | None = stored("ReleaseNotes", create=True, update=True)
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)


@dataclass(slots=True)
class AppImageConfigRecord:
    """Each app configuration is the structure the caller sent, or None."""

    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    name: str = stored("AppImageConfigName", create=True, listed=True)
    name_key: str = stored()
    kernel_gateway: dict[str, Any] | None = stored(
        "KernelGatewayImageConfig", create=True, update=True, listed=True
    )
    jupyter_lab: dict[str, Any] | None = stored(
        "JupyterLabAppImageConfig", create=True, update=True, listed=True
    )
    code_editor: dict[str, Any] | None = stored(
        "CodeEditorAppImageConfig", create=True, update=True, listed=True
    )
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)


@dataclass(slots=True)
class ClientTokenRecord:
    image_id: int = stored()
    token: str = stored()
    request_digest: str = stored()
    version: int = stored()
    created_ms: int = stored()


@dataclass(slots=True)
class JobRecord:
    id: int = stored(generated=True)
    kind: str = stored()
    subject_id: int = stored()  # the row it finishes, in the table its kind names
    version: int | None = stored()
    due_ms: int = stored()
    attempts: int = stored()
    lease_owner: str | None = stored()
    lease_until_ms: int | None = stored()
    fail_reason: str | None = stored()  # set by the control API: end in *_FAILED with this


@dataclass(slots=True)
class DomainRecord:
    """A Studio domain: its settings documents are stored as sent, merged by updates."""

    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    domain_id: str = stored("DomainId", listed=True)
    name: str = stored("DomainName", create=True, listed=True)
    name_key: str = stored()
    auth_mode: str = stored("AuthMode", create=True)
    default_user_settings: dict[str, Any] = stored("DefaultUserSettings", create=True)
    domain_settings: dict[str, Any] | None = stored("DomainSettings", create=True)
    default_space_settings: dict[str, Any] | None = stored("DefaultSpaceSettings", create=True)
    subnet_ids: list[str] | None = stored("SubnetIds", create=True, update=True)
    vpc_id: str | None = stored("VpcId", create=True, update=True)
    app_network_access_type: str = stored("AppNetworkAccessType", create=True, update=True)
    home_efs_kms_key_id: str | None = stored("HomeEfsFileSystemKmsKeyId", create=True)
    kms_key_id: str | None = stored("KmsKeyId", create=True)
    app_security_group_management: str | None = stored(
        "AppSecurityGroupManagement", create=True, update=True
    )
    tag_propagation: str = stored("TagPropagation", create=True, update=True)
    home_efs_file_system_id: str = stored("HomeEfsFileSystemId")
    url: str = stored("Url", listed=True)
    sso_instance_id: str | None = stored("SingleSignOnManagedApplicationInstanceId")
    sso_application_arn: str | None = stored("SingleSignOnApplicationArn")
    boundary_security_group: str | None = stored("SecurityGroupIdForDomainBoundary")
    status: str = stored("Status", listed=True)
    failure_reason: str | None = stored("FailureReason")
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)
    # Whether the domain has a home EFS file system (`Disabled`: none, until an update).
    home_efs_creation: str = stored("HomeEfsFileSystemCreation", create=True, update=True)
    # The last HomeEfsFileSystemUid given to one of its user profiles or spaces.
    last_uid: int = stored(default=FIRST_UID)


@dataclass(slots=True)
class UserProfileRecord:
    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    domain_id: str = stored("DomainId", listed=True)
    name: str = stored("UserProfileName", create=True, listed=True)
    name_key: str = stored()  # names are unique per domain, case-insensitively
    sso_user_identifier: str | None = stored("SingleSignOnUserIdentifier", create=True)
    sso_user_value: str | None = stored("SingleSignOnUserValue", create=True)
    user_settings: dict[str, Any] | None = stored("UserSettings", create=True)
    home_efs_uid: str = stored("HomeEfsFileSystemUid")
    status: str = stored("Status", listed=True)
    failure_reason: str | None = stored("FailureReason")
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)


@dataclass(slots=True)
class SpaceRecord:
    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    domain_id: str = stored("DomainId", listed=True)
    name: str = stored("SpaceName", create=True, listed=True)
    name_key: str = stored()
    space_settings: dict[str, Any] | None = stored("SpaceSettings", create=True)
    ownership_settings: dict[str, Any] | None = stored("OwnershipSettings", create=True)
    space_sharing_settings: dict[str, Any] | None = stored("SpaceSharingSettings", create=True)
    display_name: str | None = stored("SpaceDisplayName", create=True, update=True, listed=True)
    home_efs_uid: str = stored("HomeEfsFileSystemUid")
    url: str = stored("Url")
    status: str = stored("Status", listed=True)
    failure_reason: str | None = stored("FailureReason")
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)


@dataclass(slots=True)
class LifecycleConfigRecord:
    """A Studio lifecycle config: a script for apps of one type, immutable once made."""

    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    name: str = stored("StudioLifecycleConfigName", create=True, listed=True)
    name_key: str = stored()
    content: str = stored("StudioLifecycleConfigContent", create=True)
    app_type: str = stored("StudioLifecycleConfigAppType", create=True, listed=True)
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored("LastModifiedTime", listed=True)


@dataclass(slots=True)
class AppRecord:
    """A Studio app of a user profile or a space. Its ResourceSpec is what Describe echoes
    (the members sent, and the image and instance type resolved); `requested` is the
    ResourceSpec as sent, which its launch resolves against the catalog of that moment."""

    id: int = stored(generated=True)
    account: str = stored()
    region: str = stored()
    domain_id: str = stored("DomainId", create=True, listed=True)
    user_profile_name: str | None = stored("UserProfileName", listed=True)
    space_name: str | None = stored("SpaceName", listed=True)
    owner: str = stored()  # the user profile's or space's name, as that was created
    owner_key: str = stored()  # lower-cased: names of owners compare ignoring case
    app_type: str = stored("AppType", create=True, listed=True)
    type_key: str = stored()  # lower-cased, as in its ARN
    name: str = stored("AppName", create=True, listed=True)
    resource_spec: dict[str, Any] = stored("ResourceSpec", listed=True)
    requested: dict[str, Any] | None = stored()
    recovery_mode: bool | None = stored("RecoveryMode", create=True)
    built_in_lifecycle_config_arn: str | None = stored("BuiltInLifecycleConfigArn")
    status: str = stored("Status", listed=True)
    failure_reason: str | None = stored("FailureReason")
    health_checked_ms: int | None = stored("LastHealthCheckTimestamp")
    last_active_ms: int | None = stored("LastUserActivityTimestamp")
    # The catalog's image (its name_key) and version it launched, when it runs one of ours.
    runs_image: str | None = stored()
    runs_version: int | None = stored()
    created_ms: int = stored("CreationTime", listed=True)
    modified_ms: int = stored()  # when it last changed status: its retention counts from it
