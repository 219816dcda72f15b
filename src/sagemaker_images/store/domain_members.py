"""Reads and writes shared by the resources that live in a domain (user profiles, spaces):
one by its name within its domain, filtered keyset pages, the count of a domain's."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sagemaker_images.store.jobs import delete_jobs
from sagemaker_images.store.sql import PageRequest, Queries, Statements, Where
from sagemaker_images.store.tables import Table
from sagemaker_images.store.tags import delete_all_tags

R = TypeVar("R")


class MemberReads(Generic[R]):
    """A subclass names its `table`; its statements are built once, with the class."""

    table: ClassVar[Table[Any]]
    _select: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "table" in cls.__dict__:
            cls._select = f"SELECT {cls.table.select_list} FROM {cls.table.name}"

    def __init__(self, q: Queries) -> None:
        self._q = q

    async def find(
        self, account: str, region: str, domain_id: str, name_key: str, *, lock: bool = False
    ) -> R | None:
        row = await self._q.one(
            f"{self._select} WHERE account = ? AND region = ? AND domain_id = ? AND name_key = ?"
            + (" {lock}" if lock else ""),
            (account, region, domain_id, name_key),
        )
        found: R | None = self.table.record(row) if row else None
        return found

    async def by_row(self, row_id: int) -> R | None:
        row = await self._q.one(f"{self._select} WHERE id = ?", (row_id,))
        found: R | None = self.table.record(row) if row else None
        return found

    async def of_domain(self, account: str, region: str, domain_id: str) -> list[R]:
        rows = await self._q.all(
            f"{self._select} WHERE account = ? AND region = ? AND domain_id = ? ORDER BY id",
            (account, region, domain_id),
        )
        return [self.table.record(row) for row in rows]

    async def count_in_domain(self, account: str, region: str, domain_id: str) -> int:
        row = await self._q.one(
            f"SELECT COUNT(*) FROM {self.table.name}"
            " WHERE account = ? AND region = ? AND domain_id = ?",
            (account, region, domain_id),
        )
        return int(row[0]) if row else 0

    async def page(
        self,
        account: str,
        region: str,
        domain_id: str | None,
        name_contains: str | None,
        page: PageRequest,
    ) -> list[R]:
        where = Where("account = ? AND region = ?", account, region)
        if domain_id is not None:
            where.add("domain_id = ?", domain_id)
        where.name_contains(name_contains)
        clause = where.page(page)
        rows = await self._q.all(f"{self._select} WHERE {clause}", where.params)
        return [self.table.record(row) for row in rows]

    async def every(self, account: str | None, after_id: int, limit: int) -> list[R]:
        """Rows (of one account, or all) in the order they were made, for exports."""
        where = Where("id > ?", after_id)
        if account is not None:
            where.add("account = ?", account)
        where.params.append(limit)
        rows = await self._q.all(f"{self._select} WHERE {where} ORDER BY id LIMIT ?", where.params)
        return [self.table.record(row) for row in rows]


class MemberWrites(MemberReads[R]):
    """A subclass names its tag kind and job kinds, for what a delete removes with a row."""

    tag_kind: ClassVar[str]
    job_kinds: ClassVar[tuple[str, ...]]

    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def insert(self, record: R) -> int:
        row = await self._s.one(self.table.insert_sql, self.table.insert_params(record))
        assert row is not None
        return int(row[0])

    async def update(self, row_id: int, **changes: Any) -> None:
        assignments, params = self.table.assignments(changes)
        await self._s.run(
            f"UPDATE {self.table.name} SET {assignments} WHERE id = ?", [*params, row_id]
        )

    async def delete(self, row_id: int) -> None:
        await delete_jobs(self._s, self.job_kinds, row_id)
        await delete_all_tags(self._s, self.tag_kind, row_id)
        await self._s.run(f"DELETE FROM {self.table.name} WHERE id = ?", (row_id,))
