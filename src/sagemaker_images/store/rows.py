"""The rows of one kind of resource, found by account, region and the kind's key: every
statement made once per kind from its declaration (`resources/kinds.py`) and its record's.

One class serves images, AppImageConfigs, domains, user profiles and spaces alike (and
whatever kind comes next): a find by key or by row, counts and lists by column values,
filtered keyset pages, walks for exports, inserts, updates, counters, and deletes that
take with a row what hangs off it (dependent rows, tags, pending jobs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from sagemaker_images.resources.kinds import ResourceKind, jobs_of_subject
from sagemaker_images.store.jobs import delete_jobs
from sagemaker_images.store.sql import Lookup, PageRequest, Queries, Statements, TimeFilters, Where
from sagemaker_images.store.tables import Table
from sagemaker_images.store.tags import delete_all_tags

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Sql(Generic[R]):
    table: Table[R]
    select: str
    find: Lookup
    find_locked: Lookup
    by_row: Lookup
    by_row_locked: Lookup
    delete_jobs: tuple[str, ...]


@cache
def _sql(kind: ResourceKind[Any]) -> _Sql[Any]:
    table = Table(kind.table, kind.record)
    select = f"SELECT {table.select_list} FROM {kind.table}"
    key = " AND ".join(f"{column} = ?" for column in ("account", "region", *kind.key))
    find = f"{select} WHERE {key}"
    by_row = f"{select} WHERE id = ?"
    return _Sql(
        table,
        select,
        Lookup(find),
        Lookup(find + " {lock}"),
        Lookup(by_row),
        Lookup(by_row + " {lock}"),
        jobs_of_subject(kind),
    )


def table_of(kind: ResourceKind[R]) -> Table[R]:
    """The table of a kind's rows: its columns, and conversions to and from its record."""
    table: Table[R] = _sql(kind).table
    return table


class Rows(Generic[R]):
    """Reads of one kind's rows; as part of a transaction they see it."""

    def __init__(self, q: Queries, kind: ResourceKind[R]) -> None:
        self._q = q
        self.kind = kind
        self._sql: _Sql[R] = _sql(kind)

    def _record(self, row: tuple[Any, ...] | None) -> R | None:
        return self._sql.table.record(row) if row else None

    async def find(self, account: str, region: str, *key: Any, lock: bool = False) -> R | None:
        """The one whose key columns hold `key` (a name lower-cased, as kept)."""
        sql = self._sql.find_locked if lock else self._sql.find
        return self._record(await self._q.one(sql, (account, region, *key)))

    async def by_row(self, row_id: int, *, lock: bool = False) -> R | None:
        sql = self._sql.by_row_locked if lock else self._sql.by_row
        return self._record(await self._q.one(sql, (row_id,)))

    async def with_name(self, account: str, region: str, name_key: str) -> R | None:
        """The one of this name (where a kind's key is not its name: domains)."""
        row = await self._q.one(
            f"{self._sql.select} WHERE account = ? AND region = ? AND name_key = ?",
            (account, region, name_key),
        )
        return self._record(row)

    async def count(self, account: str, region: str, **equal: Any) -> int:
        """How many there are in an account and region (whose columns hold `equal`)."""
        where = self._where(account, region, equal)
        row = await self._q.one(
            f"SELECT COUNT(*) FROM {self.kind.table} WHERE {where}", where.params
        )
        return int(row[0]) if row else 0

    async def tally(self, column: str) -> dict[Any, int]:
        """How many there are of each value of a column, in every account and region."""
        (column,) = self._sql.table.known(column)
        rows = await self._q.all(
            f"SELECT {column}, COUNT(*) FROM {self.kind.table} GROUP BY {column}"
        )
        return {value: int(count) for value, count in rows}

    async def matching(self, account: str, region: str, **equal: Any) -> list[R]:
        """Every one whose columns hold `equal`, in the order they were made."""
        where = self._where(account, region, equal)
        rows = await self._q.all(f"{self._sql.select} WHERE {where} ORDER BY id", where.params)
        return [self._sql.table.record(row) for row in rows]

    async def page(
        self,
        account: str,
        region: str,
        page: PageRequest,
        *,
        equal: Mapping[str, Any] | None = None,
        present: Sequence[str] = (),
        times: TimeFilters | None = None,
        name_contains: str | None = None,
    ) -> list[R]:
        """One keyset page of those whose columns hold `equal` (None values: no filter)
        and have the columns `present` set, within `times`, whose lower-cased name holds
        `name_contains`."""
        where = self._where(account, region, equal or {})
        for column in self._sql.table.known(*present):
            where.add(f"{column} IS NOT NULL")
        if times is not None:
            where.times(times)
        where.name_contains(name_contains)
        clause = where.page(page)
        rows = await self._q.all(f"{self._sql.select} WHERE {clause}", where.params)
        return [self._sql.table.record(row) for row in rows]

    async def every(self, account: str | None, after_id: int, limit: int) -> list[R]:
        """Rows (of one account, or all) in the order they were made, after `after_id`:
        for exports, which walk a whole table."""
        where = Where("id > ?", after_id)
        if account is not None:
            where.add("account = ?", account)
        where.params.append(limit)
        rows = await self._q.all(
            f"{self._sql.select} WHERE {where} ORDER BY id LIMIT ?", where.params
        )
        return [self._sql.table.record(row) for row in rows]

    @staticmethod
    def _where(account: str, region: str, equal: Mapping[str, Any]) -> Where:
        where = Where("account = ? AND region = ?", account, region)
        for column, value in equal.items():
            if value is not None:
                where.add(f"{column} = ?", value)
        return where


class RowWrites(Rows[R]):
    """Reads and writes of one kind's rows, inside a transaction."""

    def __init__(self, s: Statements, kind: ResourceKind[R]) -> None:
        super().__init__(s, kind)
        self._s = s

    async def lock_quota(self, account: str, region: str) -> None:
        """Serialise, until commit, the creates that count this kind in one account and
        region against its quota, so that racing creates cannot both take the last place."""
        await self._s.lock_key(f"quota:{self.kind.table}:{account}:{region}")

    async def insert(self, record: R) -> int:
        """The new row's id; a key or name taken raises DuplicateKey."""
        table = self._sql.table
        row = await self._s.one(table.insert_sql, table.insert_params(record))
        assert row is not None
        return int(row[0])

    async def update(self, row_id: int, **changes: Any) -> None:
        assignments, params = self._sql.table.assignments(changes)
        await self._s.run(
            f"UPDATE {self.kind.table} SET {assignments} WHERE id = ?", [*params, row_id]
        )

    async def increment(self, row_id: int, column: str) -> int:
        """Add one to a counter column of a row; its new value."""
        (column,) = self._sql.table.known(column)
        row = await self._s.one(
            f"UPDATE {self.kind.table} SET {column} = {column} + 1 WHERE id = ? RETURNING {column}",
            (row_id,),
        )
        assert row is not None
        return int(row[0])

    async def delete(self, row_id: int) -> None:
        """Remove a row and everything that hangs off it: the rows of its dependents, its
        tags and the jobs that would finish it."""
        foreign_key = f"{self.kind.name}_id"
        for table in self.kind.dependents:
            await self._s.run(f"DELETE FROM {table} WHERE {foreign_key} = ?", (row_id,))
        if self._sql.delete_jobs:
            await delete_jobs(self._s, self._sql.delete_jobs, row_id)
        if self.kind.tagged:
            await delete_all_tags(self._s, self.kind.arn_type, row_id)
        await self._s.run(f"DELETE FROM {self.kind.table} WHERE id = ?", (row_id,))
