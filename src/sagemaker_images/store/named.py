"""Reads shared by the tables of named resources (images, app image configs): one row by
its name in an account and region, and filtered keyset pages of them."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sagemaker_images.store.sql import PageRequest, Queries, TimeFilters, Where
from sagemaker_images.store.tables import Table

R = TypeVar("R")


class NamedReads(Generic[R]):
    """A subclass names its `table`; its statements are built once, with the class."""

    table: ClassVar[Table[Any]]
    _find: ClassVar[str]
    _find_locked: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "table" in cls.__dict__:
            cls._find = (
                f"SELECT {cls.table.select_list} FROM {cls.table.name}"
                " WHERE account = ? AND region = ? AND name_key = ?"
            )
            cls._find_locked = cls._find + " {lock}"

    def __init__(self, q: Queries) -> None:
        self._q = q

    async def find(
        self, account: str, region: str, name_key: str, *, lock: bool = False
    ) -> R | None:
        sql = self._find_locked if lock else self._find
        row = await self._q.one(sql, (account, region, name_key))
        found: R | None = self.table.record(row) if row else None
        return found

    async def page(
        self,
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
        rows = await self._q.all(
            f"SELECT {self.table.select_list} FROM {self.table.name} WHERE {clause}",
            where.params,
        )
        return [self.table.record(row) for row in rows]

    async def every(self, account: str | None, after_id: int, limit: int) -> list[R]:
        """Rows (of one account, or all) in the order they were made, after `after_id`:
        for exports, which walk a whole table."""
        where = Where("id > ?", after_id)
        if account is not None:
            where.add("account = ?", account)
        where.params.append(limit)
        rows = await self._q.all(
            f"SELECT {self.table.select_list} FROM {self.table.name}"
            f" WHERE {where} ORDER BY id LIMIT ?",
            where.params,
        )
        return [self.table.record(row) for row in rows]
