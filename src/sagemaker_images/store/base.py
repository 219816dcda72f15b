"""Every query the catalog and the jobs need, written once in portable SQL.

A dialect supplies three primitives (`_one`, `_all`, `_run`) over its own driver and the
few words of SQL that differ (`{lock}` for row locks, `{skip_locked}` when claiming jobs);
the statements themselves are shared. `Reads` runs outside any transaction; `Writes` runs
inside one opened by `Store.transaction()` and is committed only when the block ends.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson

from sagemaker_images.store.records import (
    APP_CONFIG_DOCUMENTS,
    APP_IMAGE_CONFIG_COLUMNS,
    IMAGE_COLUMNS,
    VERSION_COLUMNS,
    VERSION_SUMMARY_COLUMNS,
    AppImageConfigRecord,
    ClientTokenRecord,
    ImageRecord,
    JobRecord,
    PageRequest,
    TimeFilters,
    VersionLookup,
    VersionRecord,
    VersionSummaryRow,
    version_from_row,
)

_IMAGE_FIELDS = IMAGE_COLUMNS.split(", ")
_IMAGE_COLUMNS_OF_I = ", ".join(f"i.{c}" for c in _IMAGE_FIELDS)
_VERSION_COLUMNS_OF_V = ", ".join(f"v.{c}" for c in VERSION_COLUMNS.split(", "))


def _lookup_version_sql(by_alias: bool, by_number: bool) -> str:
    alias_join = (
        " LEFT JOIN image_version_aliases a ON a.image_id = i.id AND a.alias = ?"
        if by_alias
        else ""
    )
    if by_number:
        chosen = "?"
    elif by_alias:
        chosen = "a.version"
    else:
        chosen = "(SELECT MAX(version) FROM image_versions WHERE image_id = i.id)"
    return (
        f"SELECT {_IMAGE_COLUMNS_OF_I}, {'a.version' if by_alias else 'NULL'},"
        f" {_VERSION_COLUMNS_OF_V} FROM images i{alias_join}"
        f" LEFT JOIN image_versions v ON v.image_id = i.id AND v.version = {chosen}"
        " WHERE i.account = ? AND i.region = ? AND i.name_key = ?"
    )


_FIND_IMAGE = (
    f"SELECT {IMAGE_COLUMNS} FROM images WHERE account = ? AND region = ? AND name_key = ?"
)
_FIND_IMAGE_LOCKED = _FIND_IMAGE + " {lock}"

# Built once: (by alias, by number) -> statement.
_LOOKUP_VERSION = {
    key: _lookup_version_sql(*key) for key in itertools.product((False, True), repeat=2)
}


class DuplicateKey(Exception):
    """A unique constraint refused the row (for example, an image name already taken)."""


_IMAGE_UPDATABLE = frozenset(
    {"description", "display_name", "role_arn", "status", "failure_reason", "modified_ms"}
)
_VERSION_UPDATABLE = frozenset(
    {
        "container_image",
        "status",
        "failure_reason",
        "vendor_guidance",
        "job_type",
        "ml_framework",
        "programming_lang",
        "processor",
        "horovod",
        "release_notes",
        "modified_ms",
    }
)


_APP_IMAGE_CONFIG_UPDATABLE = frozenset({*APP_CONFIG_DOCUMENTS, "modified_ms"})

# The kinds of resource a tag can hang off (the `resource_type` column of `tags`).
IMAGE_TAGS = "image"
APP_IMAGE_CONFIG_TAGS = "app-image-config"


def _document(value: dict | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _app_image_config(row: tuple) -> AppImageConfigRecord:
    record = AppImageConfigRecord(*row)
    for column in APP_CONFIG_DOCUMENTS:
        text = getattr(record, column)
        if text is not None:
            setattr(record, column, orjson.loads(text))
    return record


def _time_clauses(filters: TimeFilters, where: list[str], params: list[Any]) -> None:
    for column, op, value in (
        ("created_ms", ">=", filters.created_after),
        ("created_ms", "<=", filters.created_before),
        ("modified_ms", ">=", filters.modified_after),
        ("modified_ms", "<=", filters.modified_before),
    ):
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)


def _keyset(page: PageRequest, where: list[str], params: list[Any]) -> str:
    """Add the 'after the last row seen' condition; return the ORDER BY ... LIMIT tail."""
    direction = " DESC" if page.descending else ""
    if page.after is not None:
        columns = ", ".join(page.sort)
        marks = ", ".join("?" for _ in page.sort)
        where.append(f"({columns}) {'<' if page.descending else '>'} ({marks})")
        params.extend(page.after)
    params.append(page.limit)
    return " ORDER BY " + ", ".join(c + direction for c in page.sort) + " LIMIT ?"


def _assignments(changes: dict[str, Any], allowed: frozenset[str]) -> tuple[str, list[Any]]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = sorted(changes)
    return ", ".join(f"{c} = ?" for c in columns), [changes[c] for c in columns]


class Reads(ABC):
    """Queries; as `Writes` they see the open transaction, as the store's reader the last commit."""

    @abstractmethod
    async def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None: ...

    @abstractmethod
    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    # -- images ---------------------------------------------------------------------------

    async def find_image(
        self, account: str, region: str, name_key: str, *, lock: bool = False
    ) -> ImageRecord | None:
        row = await self._one(
            _FIND_IMAGE_LOCKED if lock else _FIND_IMAGE, (account, region, name_key)
        )
        return ImageRecord(*row) if row else None

    async def image_by_id(self, image_id: int, *, lock: bool = False) -> ImageRecord | None:
        row = await self._one(
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?" + (" {lock}" if lock else ""),
            (image_id,),
        )
        return ImageRecord(*row) if row else None

    async def count_images(self, account: str, region: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM images WHERE account = ? AND region = ?", (account, region)
        )
        return int(row[0]) if row else 0

    async def list_images(
        self,
        account: str,
        region: str,
        filters: TimeFilters,
        name_contains: str | None,
        page: PageRequest,
    ) -> list[ImageRecord]:
        rows = await self._list_named(
            "images", IMAGE_COLUMNS, account, region, filters, name_contains, page
        )
        return [ImageRecord(*row) for row in rows]

    async def _list_named(
        self,
        table: str,
        columns: str,
        account: str,
        region: str,
        filters: TimeFilters,
        name_contains: str | None,
        page: PageRequest,
    ) -> list[tuple]:
        """A keyset page of a table of named resources (images, app image configs)."""
        where = ["account = ?", "region = ?"]
        params: list[Any] = [account, region]
        _time_clauses(filters, where, params)
        if name_contains:
            where.append("name_key LIKE ? ESCAPE '!'")
            escaped = name_contains.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params.append(f"%{escaped}%")
        tail = _keyset(page, where, params)
        return await self._all(
            f"SELECT {columns} FROM {table} WHERE " + " AND ".join(where) + tail, params
        )

    # -- app image configs ----------------------------------------------------------------

    async def find_app_image_config(
        self, account: str, region: str, name_key: str, *, lock: bool = False
    ) -> AppImageConfigRecord | None:
        row = await self._one(
            f"SELECT {APP_IMAGE_CONFIG_COLUMNS} FROM app_image_configs"
            " WHERE account = ? AND region = ? AND name_key = ?" + (" {lock}" if lock else ""),
            (account, region, name_key),
        )
        return _app_image_config(row) if row else None

    async def list_app_image_configs(
        self,
        account: str,
        region: str,
        filters: TimeFilters,
        name_contains: str | None,
        page: PageRequest,
    ) -> list[AppImageConfigRecord]:
        rows = await self._list_named(
            "app_image_configs",
            APP_IMAGE_CONFIG_COLUMNS,
            account,
            region,
            filters,
            name_contains,
            page,
        )
        return [_app_image_config(row) for row in rows]

    # -- tags -----------------------------------------------------------------------------

    async def list_tags(
        self, resource_type: str, resource_id: int, after: str | None, limit: int
    ) -> list[tuple[str, str]]:
        where = ["resource_type = ?", "resource_id = ?"]
        params: list[Any] = [resource_type, resource_id]
        page = PageRequest(("tag_key",), False, None if after is None else (after,), limit)
        tail = _keyset(page, where, params)
        rows = await self._all(
            "SELECT tag_key, tag_value FROM tags WHERE " + " AND ".join(where) + tail, params
        )
        return [(key, value) for key, value in rows]

    async def tag_keys(self, resource_type: str, resource_id: int) -> set[str]:
        rows = await self._all(
            "SELECT tag_key FROM tags WHERE resource_type = ? AND resource_id = ?",
            (resource_type, resource_id),
        )
        return {row[0] for row in rows}

    # -- versions -------------------------------------------------------------------------

    async def find_version(self, image_id: int, version: int) -> VersionRecord | None:
        row = await self._one(
            f"SELECT {VERSION_COLUMNS} FROM image_versions WHERE image_id = ? AND version = ?",
            (image_id, version),
        )
        return version_from_row(row) if row else None

    async def latest_version(self, image_id: int) -> VersionRecord | None:
        row = await self._one(
            f"SELECT {VERSION_COLUMNS} FROM image_versions WHERE image_id = ?"
            " ORDER BY version DESC LIMIT 1",
            (image_id,),
        )
        return version_from_row(row) if row else None

    async def lookup_version(
        self,
        account: str,
        region: str,
        name_key: str,
        *,
        version: int | None,
        alias: str | None,
        lock: bool = False,
    ) -> VersionLookup:
        """One query for the common read of a version through its image's name.

        With `version`, that version; else with `alias`, the version the alias names; else
        the latest. Outer joins tell a missing image from a missing version.

        With `lock`, the image's row is locked first, in a statement of its own: a statement
        that waited for that lock inside the lookup would still read the version as it was
        before the holder committed (PostgreSQL re-reads only the locked row), so two
        deletes of one version could both find it CREATED.
        """
        if lock and await self.find_image(account, region, name_key, lock=True) is None:
            return VersionLookup(None, None, None)
        params: list[Any] = [] if alias is None else [alias]
        if version is not None:
            params.append(version)
        params.extend((account, region, name_key))
        sql = _LOOKUP_VERSION[alias is not None, version is not None]
        row = await self._one(sql, params)
        if row is None:
            return VersionLookup(None, None, None)
        width = len(_IMAGE_FIELDS)
        image = ImageRecord(*row[:width])
        found = row[width + 2] is not None  # a version's number is never null
        return VersionLookup(
            image, version_from_row(row[width + 1 :]) if found else None, row[width]
        )

    async def list_versions(
        self, image_id: int, filters: TimeFilters, page: PageRequest
    ) -> list[VersionSummaryRow]:
        where = ["image_id = ?"]
        params: list[Any] = [image_id]
        _time_clauses(filters, where, params)
        tail = _keyset(page, where, params)
        rows = await self._all(
            f"SELECT {VERSION_SUMMARY_COLUMNS} FROM image_versions WHERE "
            + " AND ".join(where)
            + tail,
            params,
        )
        return rows  # type: ignore[return-value]

    async def versions_of_image(self, image_id: int) -> list[VersionRecord]:
        rows = await self._all(
            f"SELECT {VERSION_COLUMNS} FROM image_versions WHERE image_id = ? ORDER BY version",
            (image_id,),
        )
        return [version_from_row(row) for row in rows]

    # -- aliases --------------------------------------------------------------------------

    async def version_for_alias(self, image_id: int, alias: str) -> int | None:
        row = await self._one(
            "SELECT version FROM image_version_aliases WHERE image_id = ? AND alias = ?",
            (image_id, alias),
        )
        return int(row[0]) if row else None

    async def alias_holders(self, image_id: int, aliases: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(aliases))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = await self._all(
            "SELECT alias, version FROM image_version_aliases"
            f" WHERE image_id = ? AND alias IN ({marks})",
            [image_id, *wanted],
        )
        return {alias: int(version) for alias, version in rows}

    async def list_aliases(
        self,
        image_id: int,
        version: int | None,
        alias: str | None,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[int, str]]:
        where = ["image_id = ?"]
        params: list[Any] = [image_id]
        if version is not None:
            where.append("version = ?")
            params.append(version)
        if alias is not None:
            where.append("alias = ?")
            params.append(alias)
        page = PageRequest(("version", "alias"), False, after, limit)
        tail = _keyset(page, where, params)
        rows = await self._all(
            "SELECT version, alias FROM image_version_aliases WHERE " + " AND ".join(where) + tail,
            params,
        )
        return [(int(v), a) for v, a in rows]

    # -- idempotency ----------------------------------------------------------------------

    async def find_client_token(self, image_id: int, token: str) -> ClientTokenRecord | None:
        row = await self._one(
            "SELECT request_digest, version, created_ms FROM client_tokens"
            " WHERE image_id = ? AND token = ?",
            (image_id, token),
        )
        return ClientTokenRecord(*row) if row else None

    # -- jobs -----------------------------------------------------------------------------

    async def next_job_due_ms(self) -> int | None:
        row = await self._one("SELECT MIN(COALESCE(lease_until_ms, due_ms)) FROM jobs")
        return int(row[0]) if row and row[0] is not None else None

    async def count_jobs(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM jobs")
        return int(row[0]) if row else 0

    # -- drift ----------------------------------------------------------------------------

    async def created_versions(self, after: tuple[int, int] | None, limit: int) -> list[tuple]:
        """One page of CREATED versions of every account, in (image id, version) order:
        (image_id, version, account, region, image name, base_image, container_image)."""
        where, params = "v.status = ?", ["CREATED"]
        if after is not None:
            where += " AND (v.image_id, v.version) > (?, ?)"
            params.extend(after)
        params.append(limit)
        return await self._all(
            "SELECT v.image_id, v.version, i.account, i.region, i.name, v.base_image,"
            " v.container_image FROM image_versions v JOIN images i ON i.id = v.image_id"
            f" WHERE {where} ORDER BY v.image_id, v.version LIMIT ?",
            params,
        )


class Writes(Reads):
    """Statements that change data; only ever reached inside `Store.transaction()`."""

    def __init__(self) -> None:
        self.earliest_job_due_ms: int | None = None

    @abstractmethod
    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute; return the number of rows changed. Unique violations raise DuplicateKey."""

    async def lock_quota(self, kind: str, account: str, region: str) -> None:
        """Serialise, until commit, the calls that count `kind` in one account and region
        against a quota, so that racing creates cannot both take the last place.

        SQLite's one writer serialises every transaction already; servers sharing a
        database override this with a lock of their own.
        """

    # -- images ---------------------------------------------------------------------------

    async def insert_image(self, image: ImageRecord, name_key: str) -> int:
        row = await self._one(
            "INSERT INTO images (account, region, name, name_key, description, display_name,"
            " role_arn, status, failure_reason, created_ms, modified_ms, last_version,"
            " version_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0) RETURNING id",
            (
                image.account,
                image.region,
                image.name,
                name_key,
                image.description,
                image.display_name,
                image.role_arn,
                image.status,
                image.failure_reason,
                image.created_ms,
                image.modified_ms,
            ),
        )
        assert row is not None
        return int(row[0])

    async def update_image(self, image_id: int, **changes: Any) -> None:
        assignments, params = _assignments(changes, _IMAGE_UPDATABLE)
        await self._run(f"UPDATE images SET {assignments} WHERE id = ?", [*params, image_id])

    async def delete_image(self, image_id: int) -> None:
        """Remove an image and everything that hangs off it (other pending jobs included)."""
        for table in ("image_version_aliases", "client_tokens", "image_versions", "jobs"):
            await self._run(f"DELETE FROM {table} WHERE image_id = ?", (image_id,))
        await self.delete_all_tags(IMAGE_TAGS, image_id)
        await self._run("DELETE FROM images WHERE id = ?", (image_id,))

    # -- versions -------------------------------------------------------------------------

    async def allocate_version(self, image_id: int) -> int:
        """The next number of an image, counted in the image's row so racing creators queue."""
        row = await self._one(
            "UPDATE images SET last_version = last_version + 1,"
            " version_count = version_count + 1 WHERE id = ? RETURNING last_version",
            (image_id,),
        )
        assert row is not None
        return int(row[0])

    async def insert_version(self, version: VersionRecord) -> None:
        await self._run(
            f"INSERT INTO image_versions ({VERSION_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                version.image_id,
                version.version,
                version.base_image,
                version.container_image,
                version.status,
                version.failure_reason,
                version.vendor_guidance,
                version.job_type,
                version.ml_framework,
                version.programming_lang,
                version.processor,
                None if version.horovod is None else int(version.horovod),
                version.release_notes,
                version.created_ms,
                version.modified_ms,
            ),
        )

    async def update_version(self, image_id: int, version: int, **changes: Any) -> None:
        if "horovod" in changes and changes["horovod"] is not None:
            changes["horovod"] = int(changes["horovod"])
        assignments, params = _assignments(changes, _VERSION_UPDATABLE)
        await self._run(
            f"UPDATE image_versions SET {assignments} WHERE image_id = ? AND version = ?",
            [*params, image_id, version],
        )

    async def mark_all_versions(self, image_id: int, status: str, modified_ms: int) -> None:
        await self._run(
            "UPDATE image_versions SET status = ?, modified_ms = ? WHERE image_id = ?",
            (status, modified_ms, image_id),
        )

    async def delete_version(self, image_id: int, version: int) -> None:
        """Remove a version and its aliases; its number stays used (last_version is kept)."""
        await self._run(
            "DELETE FROM image_version_aliases WHERE image_id = ? AND version = ?",
            (image_id, version),
        )
        removed = await self._run(
            "DELETE FROM image_versions WHERE image_id = ? AND version = ?", (image_id, version)
        )
        if removed:
            await self._run(
                "UPDATE images SET version_count = version_count - 1 WHERE id = ?", (image_id,)
            )

    # -- aliases --------------------------------------------------------------------------

    async def add_aliases(self, image_id: int, version: int, aliases: Iterable[str]) -> None:
        for alias in aliases:
            await self._run(
                "INSERT INTO image_version_aliases (image_id, alias, version) VALUES (?, ?, ?)",
                (image_id, alias, version),
            )

    async def delete_aliases(self, image_id: int, aliases: Iterable[str]) -> None:
        for alias in aliases:
            await self._run(
                "DELETE FROM image_version_aliases WHERE image_id = ? AND alias = ?",
                (image_id, alias),
            )

    # -- app image configs ----------------------------------------------------------------

    async def insert_app_image_config(self, config: AppImageConfigRecord, name_key: str) -> int:
        row = await self._one(
            "INSERT INTO app_image_configs (account, region, name, name_key, kernel_gateway,"
            " jupyter_lab, code_editor, created_ms, modified_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                config.account,
                config.region,
                config.name,
                name_key,
                _document(config.kernel_gateway),
                _document(config.jupyter_lab),
                _document(config.code_editor),
                config.created_ms,
                config.modified_ms,
            ),
        )
        assert row is not None
        return int(row[0])

    async def update_app_image_config(
        self, config_id: int, modified_ms: int, documents: dict[str, dict]
    ) -> None:
        """Replace the app configurations named in `documents`; keep the others."""
        changes: dict[str, Any] = {c: _document(documents[c]) for c in documents}
        changes["modified_ms"] = modified_ms
        assignments, params = _assignments(changes, _APP_IMAGE_CONFIG_UPDATABLE)
        await self._run(
            f"UPDATE app_image_configs SET {assignments} WHERE id = ?", [*params, config_id]
        )

    async def delete_app_image_config(self, config_id: int) -> None:
        await self.delete_all_tags(APP_IMAGE_CONFIG_TAGS, config_id)
        await self._run("DELETE FROM app_image_configs WHERE id = ?", (config_id,))

    # -- tags -----------------------------------------------------------------------------

    async def put_tags(
        self, resource_type: str, resource_id: int, tags: Iterable[tuple[str, str]]
    ) -> None:
        for key, value in tags:
            await self._run(
                "INSERT INTO tags (resource_type, resource_id, tag_key, tag_value)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (resource_type, resource_id, tag_key)"
                " DO UPDATE SET tag_value = excluded.tag_value",
                (resource_type, resource_id, key, value),
            )

    async def delete_tags(self, resource_type: str, resource_id: int, keys: Iterable[str]) -> None:
        for key in keys:
            await self._run(
                "DELETE FROM tags WHERE resource_type = ? AND resource_id = ? AND tag_key = ?",
                (resource_type, resource_id, key),
            )

    async def delete_all_tags(self, resource_type: str, resource_id: int) -> None:
        await self._run(
            "DELETE FROM tags WHERE resource_type = ? AND resource_id = ?",
            (resource_type, resource_id),
        )

    # -- idempotency ----------------------------------------------------------------------

    async def put_client_token(self, image_id: int, token: str, record: ClientTokenRecord) -> None:
        await self._run(
            "INSERT INTO client_tokens (image_id, token, request_digest, version, created_ms)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (image_id, token) DO UPDATE SET"
            " request_digest = excluded.request_digest, version = excluded.version,"
            " created_ms = excluded.created_ms",
            (image_id, token, record.request_digest, record.version, record.created_ms),
        )

    async def purge_client_tokens(self, before_ms: int) -> int:
        return await self._run("DELETE FROM client_tokens WHERE created_ms < ?", (before_ms,))

    # -- jobs -----------------------------------------------------------------------------

    async def add_job(self, kind: str, image_id: int, version: int | None, due_ms: int) -> None:
        await self._run(
            "INSERT INTO jobs (kind, image_id, version, due_ms, attempts) VALUES (?, ?, ?, ?, 0)",
            (kind, image_id, version, due_ms),
        )
        if self.earliest_job_due_ms is None or due_ms < self.earliest_job_due_ms:
            self.earliest_job_due_ms = due_ms

    async def claim_jobs(
        self, owner: str, now_ms: int, lease_until_ms: int, limit: int
    ) -> list[JobRecord]:
        rows = await self._all(
            "UPDATE jobs SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM jobs WHERE due_ms <= ?"
            " AND (lease_until_ms IS NULL OR lease_until_ms < ?)"
            " ORDER BY due_ms LIMIT ? {skip_locked})"
            " RETURNING id, kind, image_id, version, attempts",
            (owner, lease_until_ms, now_ms, now_ms, limit),
        )
        return [JobRecord(*row) for row in rows]

    async def finish_job(self, job_id: int, owner: str) -> bool:
        """Remove a claimed job; False if its lease passed to someone else meanwhile."""
        removed = await self._run(
            "DELETE FROM jobs WHERE id = ? AND lease_owner = ?", (job_id, owner)
        )
        return removed == 1

    async def retry_job(self, job_id: int, owner: str, due_ms: int) -> None:
        await self._run(
            "UPDATE jobs SET due_ms = ?, lease_owner = NULL, lease_until_ms = NULL"
            " WHERE id = ? AND lease_owner = ?",
            (due_ms, job_id, owner),
        )

    async def release_leases(self) -> int:
        return await self._run(
            "UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL"
            " WHERE lease_owner IS NOT NULL"
        )


JobListener = Callable[[int], None]


class DatabaseInUse(RuntimeError):
    """The database is already served by a process that must be its only server."""


class Store(ABC):
    """A database: a reader for queries, transactions for changes, listeners for new jobs."""

    def __init__(self) -> None:
        self._job_listeners: list[JobListener] = []

    @property
    @abstractmethod
    def reader(self) -> Reads: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Writes]: ...

    @abstractmethod
    async def open(self) -> None:
        """Start whatever the store runs in the background."""

    @abstractmethod
    async def close(self) -> None: ...

    @property
    def single_instance(self) -> bool:
        """True where no other server can share this database (so leases can be reset)."""
        return False

    def on_job_added(self, listener: JobListener) -> None:
        self._job_listeners.append(listener)

    def _jobs_committed(self, writes: Writes) -> None:
        if writes.earliest_job_due_ms is not None:
            for listener in self._job_listeners:
                listener(writes.earliest_job_due_ms)
