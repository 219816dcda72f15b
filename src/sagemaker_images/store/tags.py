"""Tags: key-value pairs hanging off a resource's row (its kind and row id, never its
name, so a re-created resource starts bare)."""

from __future__ import annotations

from collections.abc import Iterable

from sagemaker_images.store.sql import PageRequest, Queries, Statements, Where


class TagReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def page(
        self, kind: str, resource_id: int, after: str | None, limit: int
    ) -> list[tuple[str, str]]:
        """(key, value) pairs in key order, after the key `after`."""
        where = Where("resource_type = ? AND resource_id = ?", kind, resource_id)
        clause = where.page(
            PageRequest(("tag_key",), False, None if after is None else (after,), limit)
        )
        rows = await self._q.all(
            f"SELECT tag_key, tag_value FROM tags WHERE {clause}", where.params
        )
        return [(key, value) for key, value in rows]

    async def of(self, kind: str, resource_id: int) -> dict[str, str]:
        """Every tag of a resource."""
        rows = await self._q.all(
            "SELECT tag_key, tag_value FROM tags WHERE resource_type = ? AND resource_id = ?"
            " ORDER BY tag_key",
            (kind, resource_id),
        )
        return {key: value for key, value in rows}

    async def keys(self, kind: str, resource_id: int) -> set[str]:
        rows = await self._q.all(
            "SELECT tag_key FROM tags WHERE resource_type = ? AND resource_id = ?",
            (kind, resource_id),
        )
        return {row[0] for row in rows}


class TagWrites(TagReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def put(self, kind: str, resource_id: int, pairs: Iterable[tuple[str, str]]) -> None:
        """Add tags, overwriting the values of keys the resource has already: one
        statement for all of them (a key given twice keeps its last value)."""
        given = dict(pairs)
        if not given:
            return
        rows = ", ".join("(?, ?, ?, ?)" for _ in given)
        params = [v for key, value in given.items() for v in (kind, resource_id, key, value)]
        await self._s.run(
            f"INSERT INTO tags (resource_type, resource_id, tag_key, tag_value) VALUES {rows}"
            " ON CONFLICT (resource_type, resource_id, tag_key)"
            " DO UPDATE SET tag_value = excluded.tag_value",
            params,
        )

    async def delete(self, kind: str, resource_id: int, keys: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        await self._s.run(
            "DELETE FROM tags WHERE resource_type = ? AND resource_id = ?"
            f" AND tag_key IN ({', '.join('?' for _ in wanted)})",
            [kind, resource_id, *wanted],
        )


async def delete_all_tags(s: Statements, kind: str, resource_id: int) -> None:
    """Remove every tag of a resource (it is being deleted)."""
    await s.run("DELETE FROM tags WHERE resource_type = ? AND resource_id = ?", (kind, resource_id))
