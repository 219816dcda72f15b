"""Image versions and the client tokens that make their creation idempotent."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.resources.records import (
    ClientTokenRecord,
    ImageRecord,
    VersionRecord,
    listed_columns,
)
from sagemaker_images.resources.states import VersionStatus
from sagemaker_images.store.rows import Rows, table_of
from sagemaker_images.store.sql import (
    Batch,
    Lookup,
    PageRequest,
    Queries,
    Statements,
    TimeFilters,
    Where,
)
from sagemaker_images.store.tables import Table

IMAGES = table_of(IMAGE)
VERSIONS = Table("image_versions", VersionRecord)
CLIENT_TOKENS = Table("client_tokens", ClientTokenRecord)
# What a listed version's row holds, in this order: plain tuples, as a page may hold a
# hundred and an object per row would cost more than the query.
LISTED = tuple(column.name for column in listed_columns(VersionRecord))
ListedVersion = tuple[Any, ...]

_FIND = Lookup(
    f"SELECT {VERSIONS.select_list} FROM image_versions WHERE image_id = ? AND version = ?"
)
_FIND_TOKEN = Lookup(
    f"SELECT {CLIENT_TOKENS.select_list} FROM client_tokens WHERE image_id = ? AND token = ?"
)


# An image by its key: account, region and lower-cased name.
ImageKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class NewVersion:
    """One CreateImageVersion's writes: the image's id and the version's number in
    `version` and `token` are placeholders, filled from the image's counter."""

    image: ImageKey
    version: VersionRecord
    token: ClientTokenRecord
    aliases: Sequence[str]
    job: tuple[str, int]  # kind, due time
    status: str  # the image takes a version only in this status
    limit: int  # and while it holds fewer versions


# How a version's CREATING ended: (image id, number, container image, failure reason), the
# container image None when it failed.
Ending = tuple[int, int, str | None, str | None]
# A client token made before a time (expired), of an image given by its key.
FORGET_TOKEN = (
    "DELETE FROM client_tokens WHERE token = ? AND created_ms < ? AND image_id ="
    " (SELECT id FROM images WHERE account = ? AND region = ? AND name_key = ?)"
)
# Locks and advances the counter of an image given by its key, only while it may take one
# more version and no version was made with a client token: its id, stored name and the
# number. (Its parameters: the key, the status, the limit, the token.)
ALLOCATE = (
    "UPDATE images SET last_version = last_version + 1, version_count = version_count + 1"
    " WHERE account = ? AND region = ? AND name_key = ? AND status = ? AND version_count < ?"
    " AND NOT EXISTS (SELECT 1 FROM client_tokens c WHERE c.image_id = images.id"
    " AND c.token = ?) RETURNING id, name, last_version"
)


@dataclass(frozen=True, slots=True)
class Created:
    """A version made (or, `replayed`, made earlier by a call with the same client token):
    its image's stored name and its number."""

    name: str
    number: int
    replayed: bool = False


class Why(StrEnum):
    """Why a version was not made."""

    NO_IMAGE = "no such image"
    TOKEN_REUSED = "the client token was used with other parameters"
    NOT_READY = "the image is not in the status that takes versions"
    AT_LIMIT = "the image holds its limit of versions"
    ALIAS_TAKEN = "an alias is held by another version"
    CONTENDED = "the image kept changing under the call"


@dataclass(frozen=True, slots=True)
class Refused:
    why: Why
    image: ImageRecord | None = None
    alias: str | None = None  # ALIAS_TAKEN: the alias, and the version that holds it
    holder: int | None = None


@dataclass(slots=True)
class VersionLookup:
    """An image and one of its versions, as selected by number, by alias, or as the latest."""

    image: ImageRecord | None  # None: there is no such image
    version: VersionRecord | None  # None: the image has no such version
    alias_version: int | None  # the number an alias names (None: no alias given, or unknown)


def _lookup_sql(by_alias: bool, by_number: bool) -> str:
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
        f"SELECT {IMAGES.select_of('i')}, {'a.version' if by_alias else 'NULL'},"
        f" {VERSIONS.select_of('v')} FROM images i{alias_join}"
        f" LEFT JOIN image_versions v ON v.image_id = i.id AND v.version = {chosen}"
        " WHERE i.account = ? AND i.region = ? AND i.name_key = ?"
    )


# Built once: (by alias, by number) -> statement.
_LOOKUP = {key: Lookup(_lookup_sql(*key)) for key in itertools.product((False, True), repeat=2)}
_IMAGE_WIDTH = len(IMAGES.columns)


class VersionReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def find(self, image_id: int, version: int) -> VersionRecord | None:
        row = await self._q.one(_FIND, (image_id, version))
        return VERSIONS.record(row) if row else None

    async def find_many(self, keys: Sequence[tuple[int, int]]) -> list[VersionRecord]:
        """The versions of these (image id, number) pairs that exist, in one statement."""
        if not keys:
            return []
        pairs = ", ".join("(?, ?)" for _ in keys)
        rows = await self._q.all(
            Batch(
                f"SELECT {VERSIONS.select_list} FROM image_versions"
                f" WHERE (image_id, version) IN (VALUES {pairs})"
            ),
            [value for key in keys for value in key],
        )
        return [VERSIONS.record(row) for row in rows]

    async def of_image(self, image_id: int) -> list[VersionRecord]:
        """Every version of an image, by number."""
        rows = await self._q.all(
            f"SELECT {VERSIONS.select_list} FROM image_versions WHERE image_id = ?"
            " ORDER BY version",
            (image_id,),
        )
        return [VERSIONS.record(row) for row in rows]

    async def lookup(
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
        if lock and await Rows(self._q, IMAGE).find(account, region, name_key, lock=True) is None:
            return VersionLookup(None, None, None)
        params: list[Any] = [] if alias is None else [alias]
        if version is not None:
            params.append(version)
        params.extend((account, region, name_key))
        row = await self._q.one(_LOOKUP[alias is not None, version is not None], params)
        if row is None:
            return VersionLookup(None, None, None)
        image = IMAGES.record(row[:_IMAGE_WIDTH])
        found = row[_IMAGE_WIDTH + 1] is not None  # a version's image id is never null
        return VersionLookup(
            image, VERSIONS.record(row[_IMAGE_WIDTH + 1 :]) if found else None, row[_IMAGE_WIDTH]
        )

    async def page(
        self, image_id: int, filters: TimeFilters, page: PageRequest
    ) -> list[ListedVersion]:
        """Rows of the `LISTED` columns (read from the covering listing indexes)."""
        where = Where("image_id = ?", image_id)
        where.times(filters)
        clause = where.page(page)
        return await self._q.all(
            f"SELECT {', '.join(LISTED)} FROM image_versions WHERE {clause}", where.params
        )

    async def created(
        self, after: tuple[int, int] | None, limit: int
    ) -> list[tuple[int, int, str, str, str, str, str | None]]:
        """One page of CREATED versions of every account, in (image id, version) order:
        (image_id, version, account, region, image name, base_image, container_image)."""
        where = Where("v.status = ?", "CREATED")
        if after is not None:
            where.add("(v.image_id, v.version) > (?, ?)", *after)
        where.params.append(limit)
        rows = await self._q.all(
            "SELECT v.image_id, v.version, i.account, i.region, i.name, v.base_image,"
            " v.container_image FROM image_versions v JOIN images i ON i.id = v.image_id"
            f" WHERE {where} ORDER BY v.image_id, v.version LIMIT ?",
            where.params,
        )
        return rows

    async def client_token(self, image_id: int, token: str) -> ClientTokenRecord | None:
        row = await self._q.one(_FIND_TOKEN, (image_id, token))
        return CLIENT_TOKENS.record(row) if row else None


class VersionWrites(VersionReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def allocate_number(
        self, image: ImageKey, status: str, limit: int, token: str
    ) -> tuple[int, str, int] | None:
        """The next number of an image (with its id and stored name), counted in the
        image's row so racing creators queue; None if there is no such image, or it is no
        longer in `status`, holds `limit` versions already or has a version made with
        `token`."""
        row = await self._s.one(ALLOCATE, (*image, status, limit, token))
        return None if row is None else (int(row[0]), str(row[1]), int(row[2]))

    async def insert(self, version: VersionRecord) -> None:
        await self._s.run(VERSIONS.insert_sql, VERSIONS.insert_params(version))

    async def update(self, image_id: int, version: int, **changes: Any) -> None:
        assignments, params = VERSIONS.assignments(changes)
        await self._s.run(
            f"UPDATE image_versions SET {assignments} WHERE image_id = ? AND version = ?",
            [*params, image_id, version],
        )

    async def finish_creating(
        self, outcomes: Sequence[Ending], modified_ms: int
    ) -> list[tuple[int, int, str, str, str]]:
        """End versions still CREATING, in one statement: CREATED with the container image
        of their outcome, or CREATE_FAILED with its reason where it has none. Those ended:
        (image id, number, and their image's name, account and region, for log lines)."""
        if not outcomes:
            return []
        given = ", ".join("(?, ?, ?, ?)" for _ in outcomes)
        rows = await self._s.all(
            Batch(
                "UPDATE image_versions SET container_image = x.container_image,"
                " failure_reason = x.failure_reason, modified_ms = ?,"
                " status = CASE WHEN x.container_image IS NULL THEN ? ELSE ? END"
                " FROM (SELECT column1 AS image_id, column2 AS version, column3 AS container_image,"
                f" column4 AS failure_reason FROM (VALUES {given}) AS given) AS x"
                " WHERE image_versions.image_id = x.image_id AND image_versions.version = x.version"
                " AND image_versions.status = ?"
                " RETURNING image_versions.image_id, image_versions.version,"
                " (SELECT name FROM images WHERE images.id = image_versions.image_id),"
                " (SELECT account FROM images WHERE images.id = image_versions.image_id),"
                " (SELECT region FROM images WHERE images.id = image_versions.image_id)"
            ),
            [
                modified_ms,
                VersionStatus.CREATE_FAILED,
                VersionStatus.CREATED,
                *(value for outcome in outcomes for value in outcome),
                VersionStatus.CREATING,
            ],
        )
        return [(int(i), int(v), str(n), str(a), str(r)) for i, v, n, a, r in rows]

    async def mark_all(self, image_id: int, status: str, modified_ms: int) -> list[int]:
        """Every version of the image in `status`: the numbers of those that were not."""
        rows = await self._s.all(
            Batch(
                "UPDATE image_versions SET status = ?, modified_ms = ?"
                " WHERE image_id = ? AND status <> ? RETURNING version"
            ),
            (status, modified_ms, image_id, status),
        )
        return sorted(int(row[0]) for row in rows)

    async def delete(self, image_id: int, version: int) -> None:
        """Remove a version and its aliases; its number stays used (last_version is kept)."""
        await self._s.run(
            "DELETE FROM image_version_aliases WHERE image_id = ? AND version = ?",
            (image_id, version),
        )
        removed = await self._s.run(
            "DELETE FROM image_versions WHERE image_id = ? AND version = ?", (image_id, version)
        )
        if removed:
            await self._s.run(
                "UPDATE images SET version_count = version_count - 1 WHERE id = ?", (image_id,)
            )

    async def put_client_token(self, record: ClientTokenRecord) -> None:
        await self._s.run(
            CLIENT_TOKENS.insert_sql + " ON CONFLICT (image_id, token) DO UPDATE SET"
            " request_digest = excluded.request_digest, version = excluded.version,"
            " created_ms = excluded.created_ms",
            CLIENT_TOKENS.insert_params(record),
        )

    async def insert_client_token(self, record: ClientTokenRecord) -> None:
        """A new token: one held already raises DuplicateKey."""
        await self._s.run(CLIENT_TOKENS.insert_sql, CLIENT_TOKENS.insert_params(record))

    async def forget_client_token(self, image: ImageKey, token: str, before_ms: int) -> None:
        """Remove a token made before `before_ms` (expired), so it can be made anew."""
        await self._s.run(FORGET_TOKEN, (token, before_ms, *image))

    async def purge_client_tokens(self, before_ms: int) -> int:
        return await self._s.run("DELETE FROM client_tokens WHERE created_ms < ?", (before_ms,))
