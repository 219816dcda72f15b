"""Queries shared by the tables of named resources (images, app image configs): one row by
its name in an account and region, and filtered keyset pages of them."""

from __future__ import annotations

from typing import Generic, TypeVar

from sagemaker_images.store.sql import PageRequest, Queries, TimeFilters, Where
from sagemaker_images.store.tables import Table

R = TypeVar("R")


class NamedRows(Generic[R]):
    """The statements of one table of named resources."""

    def __init__(self, table: Table[R]) -> None:
        self.table = table
        find = (
            f"SELECT {table.select_list} FROM {table.name}"
            " WHERE account = ? AND region = ? AND name_key = ?"
        )
        self._find = find
        self._find_locked = find + " {lock}"

    async def find(
        self, q: Queries, account: str, region: str, name_key: str, *, lock: bool = False
    ) -> R | None:
        row = await q.one(self._find_locked if lock else self._find, (account, region, name_key))
        return self.table.record(row) if row else None

    async def page(
        self,
        q: Queries,
        account: str,
        region: str,
        filters: TimeFilters,
        name_contains: str | None,
        page: PageRequest,
    ) -> list[R]:
        where = Where("account = ? AND region = ?", account, region)
        where.times(filters)
        where.name_contains(name_contains)
        clause = where.page(page)
        rows = await q.all(
            f"SELECT {self.table.select_list} FROM {self.table.name} WHERE {clause}",
            where.params,
        )
        return [self.table.record(row) for row in rows]


class NamedReads(Generic[R]):
    """Reads of a table of named resources: one by name, or a filtered page."""

    def __init__(self, q: Queries, rows: NamedRows[R]) -> None:
        self._q = q
        self._rows = rows

    async def find(
        self, account: str, region: str, name_key: str, *, lock: bool = False
    ) -> R | None:
        return await self._rows.find(self._q, account, region, name_key, lock=lock)

    async def page(
        self,
        account: str,
        region: str,
        filters: TimeFilters,
        name_contains: str | None,
        page: PageRequest,
    ) -> list[R]:
        return await self._rows.page(self._q, account, region, filters, name_contains, page)
