"""Open the store a database URL names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    if "password" in parts.query:
        hidden = [
            (key, "***" if key == "password" else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(hidden, safe="*"))
    return urlunsplit(parts)


async def open_store(settings: Settings, *, serving: bool = False) -> Store:
    """`serving`: for the server itself, which on SQLite must be the file's only writer."""
    url = settings.resolved_database_url()
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from sagemaker_images.store.sqlite import SqliteStore

        store: Store = SqliteStore(sqlite_path(url), settings.sqlite_synchronous, serving=serving)
    elif scheme in {"postgresql", "postgres"}:
        from sagemaker_images.store.postgresql import PostgresStore

        store = PostgresStore(url, settings.database_pool_size, settings.database_pool_timeout)
    else:
        raise ValueError(
            f"unsupported database URL {redacted(url)!r}"
            " (expected sqlite:///... or postgresql://...)"
        )
    try:
        await store.open()
    except BaseException:
        await store.close()
        raise
    return store
