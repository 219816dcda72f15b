"""What can go wrong below the catalog, in the store's own terms.

The store never raises an AWS error: the protocol layer decides how a caller hears of these
(`StoreUnavailable` as a 503 the SDKs retry, `UnstorableValue` as a validation error).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is too busy; nothing of the call was committed."""


class UnstorableValue(StoreError):
    """A value the database refuses to hold (the caller's to change, not a server fault)."""


class DuplicateKey(StoreError):
    """A unique constraint refused the row (for example, an image name already taken)."""


class DatabaseInUse(StoreError):
    """The database is already served by a process that must be its only server."""


class DatabaseUnusable(StoreError):
    """The database cannot be used as it is: not a database, not readable or writable
    there, or of a schema newer than this release's. The message says which, and what to
    do."""
