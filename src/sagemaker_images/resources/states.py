"""The lifecycle states AWS defines for each kind of resource."""

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
