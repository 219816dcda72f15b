"""Open the store a database URL names."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from sagemaker_images.config import Settings
from sagemaker_images.store.base import Store


def sqlite_path(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`, as SQLAlchemy spells them."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest in {"/", "/:memory:"}:
        raise ValueError(
            f"{url!r}: give a file, e.g. sqlite:///catalog.db or sqlite:////var/lib/catalog.db"
            " (the catalog is never held only in memory)"
        )
    return Path(rest[1:]).expanduser()


_PASSWORD_IN_NETLOC = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:?#]*:)([^/@?#]*)@")
_PASSWORD_IN_QUERY = re.compile(r"([?&]password=)[^&#]*")


def redacted(url: str) -> str:
    """The URL exactly as given, but for its password, for logs."""
    url = _PASSWORD_IN_NETLOC.sub(r"\1***@", url)
    return _PASSWORD_IN_QUERY.sub(r"\1***", url)


def check_url(url: str) -> str:
    """`url` if a store can open it; raises ValueError saying what is wrong."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        sqlite_path(url)
    elif scheme not in {"postgresql", "postgres"}:
        raise ValueError(
            f"unsupported database URL {redacted(url)!r}"
            " (expected sqlite:///... or postgresql://...)"
        )
    return url


async def open_store(settings: Settings, *, serving: bool = False) -> Store:
    """`serving`: for the server itself, which on SQLite must be the file's only writer."""
    url = check_url(settings.resolved_database_url())
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
