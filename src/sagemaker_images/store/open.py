"""Open the store a database URL names."""

from __future__ import annotations

from urllib.parse import urlsplit

from sagemaker_images.config import Settings, check_database_url, sqlite_path
from sagemaker_images.store.base import Store


async def open_store(settings: Settings, *, serving: bool = False) -> Store:
    """`serving`: for the server itself, which on SQLite must be the file's only writer."""
    url = check_database_url(settings.resolved_database_url())
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from sagemaker_images.store.sqlite import SqliteStore

        store: Store = SqliteStore(sqlite_path(url), settings.sqlite_synchronous, serving=serving)
    else:
        from sagemaker_images.store.postgresql import PostgresStore

        store = PostgresStore(url, settings.database_pool_size, settings.database_pool_timeout)
    try:
        await store.open()
    except BaseException:
        await store.close()
        raise
    return store
