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


class StudioStatus(StrEnum):
    """Domains, user profiles and spaces share one set of states."""

    PENDING = "Pending"
    IN_SERVICE = "InService"
    FAILED = "Failed"
    UPDATING = "Updating"
    UPDATE_FAILED = "Update_Failed"
    DELETING = "Deleting"
    DELETE_FAILED = "Delete_Failed"


# Studio states in which a resource is busy: a second update or delete waits for it.
STUDIO_BUSY = frozenset({StudioStatus.PENDING, StudioStatus.UPDATING, StudioStatus.DELETING})


class JobKind(StrEnum):
    """Durable work that finishes an asynchronous transition."""

    IMAGE_CREATE = "image.create"
    IMAGE_UPDATE = "image.update"
    IMAGE_DELETE = "image.delete"
    VERSION_CREATE = "version.create"
    VERSION_DELETE = "version.delete"
    DOMAIN_CREATE = "domain.create"
    DOMAIN_UPDATE = "domain.update"
    DOMAIN_DELETE = "domain.delete"
    USER_PROFILE_CREATE = "user_profile.create"
    USER_PROFILE_UPDATE = "user_profile.update"
    USER_PROFILE_DELETE = "user_profile.delete"
    SPACE_CREATE = "space.create"
    SPACE_UPDATE = "space.update"
    SPACE_DELETE = "space.delete"


def _kinds(*prefixes: str) -> tuple[str, ...]:
    return tuple(str(kind) for kind in JobKind if kind.split(".")[0] in prefixes)


# The table whose row a job's `subject_id` names, for each family of job kinds.
JOB_SUBJECTS: dict[str, tuple[str, ...]] = {
    "images": _kinds("image", "version"),
    "domains": _kinds("domain"),
    "user_profiles": _kinds("user_profile"),
    "spaces": _kinds("space"),
}
IMAGE_JOB_KINDS = JOB_SUBJECTS["images"]
