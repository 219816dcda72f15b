"""Reads the web catalog needs and the API has no call for: which regions hold data, facts
about a page of images at once, and whole records of a page of versions. Each is one
statement for a whole page, so a page costs the same on an image of ten versions or ten
thousand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagemaker_images.resources.kinds import DOMAIN, SPACE, TABLED, USER_PROFILE
from sagemaker_images.resources.records import (
    DomainRecord,
    SpaceRecord,
    UserProfileRecord,
    VersionRecord,
)
from sagemaker_images.store.rows import table_of
from sagemaker_images.store.sql import Queries
from sagemaker_images.store.versions import VERSIONS

# Tables whose rows belong to an account and region directly (the rest live in these).
_REGIONAL = tuple(kind.table for kind in TABLED if kind.parent is None)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


class BrowseReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def regions(self, account: str) -> list[str]:
        """The regions where the account holds an image, an AppImageConfig or a domain.

        Each table is read by skipping from one region to the next along its
        (account, region, ...) index, so the cost grows with the regions, not the rows."""
        found: set[str] = set()
        for table in _REGIONAL:
            rows = await self._q.all(
                "WITH RECURSIVE r (region) AS ("
                f" SELECT MIN(region) FROM {table} WHERE account = ?"
                f" UNION ALL SELECT (SELECT MIN(region) FROM {table}"
                " WHERE account = ? AND region > r.region) FROM r WHERE r.region IS NOT NULL"
                ") SELECT region FROM r WHERE region IS NOT NULL",
                (account, account),
            )
            found.update(row[0] for row in rows)
        return sorted(found)

    async def image_facts(
        self, account: str, region: str, name_keys: Sequence[str]
    ) -> dict[str, tuple[int, int, int | None]]:
        """(row id, count of versions, highest existing version or None) of each named
        image."""
        if not name_keys:
            return {}
        rows = await self._q.all(
            "SELECT i.name_key, i.id, i.version_count,"
            " (SELECT MAX(v.version) FROM image_versions v WHERE v.image_id = i.id)"
            " FROM images i WHERE i.account = ? AND i.region = ?"
            f" AND i.name_key IN ({_marks(name_keys)})",
            [account, region, *name_keys],
        )
        return {key: (int(row_id), int(count), latest) for key, row_id, count, latest in rows}

    async def tags_of(self, kind: str, resource_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """Every tag of each resource, by row id, in key order."""
        found: dict[int, dict[str, str]] = {row_id: {} for row_id in resource_ids}
        if not resource_ids:
            return found
        rows = await self._q.all(
            "SELECT resource_id, tag_key, tag_value FROM tags WHERE resource_type = ?"
            f" AND resource_id IN ({_marks(resource_ids)}) ORDER BY resource_id, tag_key",
            [kind, *resource_ids],
        )
        for row_id, key, value in rows:
            found[int(row_id)][key] = value
        return found

    async def versions(self, image_id: int, numbers: Sequence[int]) -> dict[int, VersionRecord]:
        """Whole records of some versions of an image, by number."""
        if not numbers:
            return {}
        rows = await self._q.all(
            f"SELECT {VERSIONS.select_list} FROM image_versions WHERE image_id = ?"
            f" AND version IN ({_marks(numbers)})",
            [image_id, *numbers],
        )
        records = [VERSIONS.record(row) for row in rows]
        return {record.version: record for record in records}

    async def aliases(self, image_id: int, numbers: Sequence[int]) -> dict[int, list[str]]:
        """The aliases of some versions of an image, by number, each list sorted."""
        found: dict[int, list[str]] = {number: [] for number in numbers}
        if not numbers:
            return found
        rows = await self._q.all(
            "SELECT version, alias FROM image_version_aliases WHERE image_id = ?"
            f" AND version IN ({_marks(numbers)}) ORDER BY version, alias",
            [image_id, *numbers],
        )
        for number, alias in rows:
            found[int(number)].append(alias)
        return found

    async def studio(
        self, account: str, region: str
    ) -> tuple[list[DomainRecord], list[UserProfileRecord], list[SpaceRecord]]:
        """Every domain, user profile and space of an account and region (the quotas keep
        these to a few thousand rows), each kind in creation order."""
        where = " WHERE account = ? AND region = ? ORDER BY created_ms, id"
        found: list[list[Any]] = []
        for table in (table_of(DOMAIN), table_of(USER_PROFILE), table_of(SPACE)):
            rows = await self._q.all(
                f"SELECT {table.select_list} FROM {table.name}{where}", (account, region)
            )
            found.append([table.record(row) for row in rows])
        return found[0], found[1], found[2]
