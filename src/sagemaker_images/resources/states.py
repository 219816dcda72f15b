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


class AppStatus(StrEnum):
    PENDING = "Pending"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    DELETED = "Deleted"
    FAILED = "Failed"


# An app in these holds its key, its owner and its lifecycle config; the others are
# records kept for a while (until their retention lapses).
APP_LIVE = frozenset({AppStatus.PENDING, AppStatus.IN_SERVICE, AppStatus.DELETING})
