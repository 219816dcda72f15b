"""The lifecycle states AWS defines for images and image versions."""

from __future__ import annotations

from enum import StrEnum


class ImageStatus(StrEnum):
    CREATING = "CREATING"
    CREATED = "CREATED"
    CREATE_FAILED = "CREATE_FAILED"
    UPDATING = "UPDATING"
    UPDATE_FAILED = "UPDATE_FAILED"
    DELETING = "DELETING"
    DELETE_FAILED = "DELETE_FAILED"


class VersionStatus(StrEnum):
    CREATING = "CREATING"
    CREATED = "CREATED"
    CREATE_FAILED = "CREATE_FAILED"
    DELETING = "DELETING"
    DELETE_FAILED = "DELETE_FAILED"


class JobKind(StrEnum):
    """Durable work that finishes an asynchronous transition."""

    IMAGE_CREATE = "image.create"
    IMAGE_UPDATE = "image.update"
    IMAGE_DELETE = "image.delete"
    VERSION_CREATE = "version.create"
    VERSION_DELETE = "version.delete"
