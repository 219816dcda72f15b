"""Rows as the store hands them out: plain slotted dataclasses, times in epoch milliseconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ImageRecord:
    id: int
    account: str
    region: str
    name: str
    description: str | None
    display_name: str | None
    role_arn: str
    status: str
    failure_reason: str | None
    created_ms: int
    modified_ms: int
    last_version: int
    version_count: int


IMAGE_COLUMNS = (
    "id, account, region, name, description, display_name, role_arn, status, failure_reason, "
    "created_ms, modified_ms, last_version, version_count"
)


@dataclass(slots=True)
class VersionRecord:
    image_id: int
    version: int
    base_image: str
    container_image: str | None
    status: str
    failure_reason: str | None
    vendor_guidance: str | None
    job_type: str | None
    ml_framework: str | None
    programming_lang: str | None
    processor: str | None
    horovod: bool | None
    release_notes: str | None
    created_ms: int
    modified_ms: int


VERSION_COLUMNS = (
    "image_id, version, base_image, container_image, status, failure_reason, vendor_guidance, "
    "job_type, ml_framework, programming_lang, processor, horovod, release_notes, "
    "created_ms, modified_ms"
)


def version_from_row(row: tuple) -> VersionRecord:
    record = VersionRecord(*row)
    if record.horovod is not None:
        record.horovod = bool(record.horovod)
    return record


# A version as listings show it: (version, status, failure_reason, created_ms, modified_ms).
# A plain tuple straight from the driver: a page holds a hundred, and an object per row would
# cost more than the query.
VersionSummaryRow = tuple[int, str, str | None, int, int]
VERSION_SUMMARY_COLUMNS = "version, status, failure_reason, created_ms, modified_ms"


@dataclass(slots=True)
class VersionLookup:
    """An image and one of its versions, as selected by number, by alias, or as the latest."""

    image: ImageRecord | None  # None: there is no such image
    version: VersionRecord | None  # None: the image has no such version
    alias_version: int | None  # the number an alias names (None: no alias given, or unknown)


@dataclass(slots=True)
class ClientTokenRecord:
    request_digest: str
    version: int
    created_ms: int


@dataclass(slots=True)
class JobRecord:
    id: int
    kind: str
    image_id: int
    version: int | None
    attempts: int


@dataclass(frozen=True, slots=True)
class TimeFilters:
    """Inclusive bounds on creation and last-modified time, in epoch milliseconds."""

    created_after: int | None = None
    created_before: int | None = None
    modified_after: int | None = None
    modified_before: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One keyset page: sort columns, direction, the key of the last row seen, the size."""

    sort: tuple[str, ...]
    descending: bool
    after: tuple | None
    limit: int


@dataclass(slots=True)
class AppImageConfigRecord:
    """An AppImageConfig; each app configuration is the structure the caller sent, or None."""

    id: int
    account: str
    region: str
    name: str
    kernel_gateway: dict | None
    jupyter_lab: dict | None
    code_editor: dict | None
    created_ms: int
    modified_ms: int


APP_IMAGE_CONFIG_COLUMNS = (
    "id, account, region, name, kernel_gateway, jupyter_lab, code_editor, created_ms, modified_ms"
)
# The columns that hold an app configuration as JSON text.
APP_CONFIG_DOCUMENTS = ("kernel_gateway", "jupyter_lab", "code_editor")
