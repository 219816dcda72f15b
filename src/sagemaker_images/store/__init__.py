"""Persistence: one Store interface over SQL that runs on SQLite and PostgreSQL."""

from sagemaker_images.store.base import DatabaseInUse, DuplicateKey, Reads, Store, Writes
from sagemaker_images.store.open import open_store

__all__ = ["DatabaseInUse", "DuplicateKey", "Reads", "Store", "Writes", "open_store"]
