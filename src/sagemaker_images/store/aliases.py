"""Aliases: names for one version each, within an image."""

from __future__ import annotations

from collections.abc import Iterable

from sagemaker_images.store.sql import Lookup, PageRequest, Queries, Statements, Where

_VERSION_OF = Lookup("SELECT version FROM image_version_aliases WHERE image_id = ? AND alias = ?")


class AliasReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def version_of(self, image_id: int, alias: str) -> int | None:
        row = await self._q.one(_VERSION_OF, (image_id, alias))
        return int(row[0]) if row else None

    async def holders(self, image_id: int, aliases: Iterable[str]) -> dict[str, int]:
        """The version holding each of `aliases` that some version holds."""
        wanted = list(dict.fromkeys(aliases))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = await self._q.all(
            "SELECT alias, version FROM image_version_aliases"
            f" WHERE image_id = ? AND alias IN ({marks})",
            [image_id, *wanted],
        )
        return {alias: int(version) for alias, version in rows}

    async def of_image(self, image_id: int) -> dict[int, list[str]]:
        """Every alias of an image, by the version it names."""
        rows = await self._q.all(
            "SELECT version, alias FROM image_version_aliases WHERE image_id = ?"
            " ORDER BY version, alias",
            (image_id,),
        )
        found: dict[int, list[str]] = {}
        for version, alias in rows:
            found.setdefault(int(version), []).append(alias)
        return found

    async def page(
        self,
        image_id: int,
        version: int | None,
        alias: str | None,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[int, str]]:
        """(version, alias) pairs in that order, after the pair `after`."""
        where = Where("image_id = ?", image_id)
        if version is not None:
            where.add("version = ?", version)
        if alias is not None:
            where.add("alias = ?", alias)
        clause = where.page(PageRequest(("version", "alias"), False, after, limit))
        rows = await self._q.all(
            f"SELECT version, alias FROM image_version_aliases WHERE {clause}", where.params
        )
        return [(int(v), a) for v, a in rows]


class AliasWrites(AliasReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def add(self, image_id: int, version: int, aliases: Iterable[str]) -> None:
        for alias in aliases:
            await self._s.run(
                "INSERT INTO image_version_aliases (image_id, alias, version) VALUES (?, ?, ?)",
                (image_id, alias, version),
            )

    async def delete(self, image_id: int, aliases: Iterable[str]) -> None:
        for alias in aliases:
            await self._s.run(
                "DELETE FROM image_version_aliases WHERE image_id = ? AND alias = ?",
                (image_id, alias),
            )
