"""Persistence: one Store over SQL that runs on SQLite and PostgreSQL."""

from sagemaker_images.store.base import Presence, Reads, Store, Writes
from sagemaker_images.store.errors import (
    DatabaseInUse,
    DuplicateKey,
    StoreError,
    StoreUnavailable,
    UnstorableValue,
)
from sagemaker_images.store.events import image_ref
from sagemaker_images.store.jobs import PendingJob
from sagemaker_images.store.open import open_store
from sagemaker_images.store.sql import PageRequest, TimeFilters

__all__ = [
    "DatabaseInUse",
    "DuplicateKey",
    "PageRequest",
    "PendingJob",
    "Presence",
    "Reads",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TimeFilters",
    "UnstorableValue",
    "Writes",
    "image_ref",
    "open_store",
]
