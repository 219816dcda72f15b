"""Studio domains: found by their DomainId, unique by name too, listed in creation order."""

from __future__ import annotations

from typing import Any

from sagemaker_images.records import DOMAIN_TAGS, DomainRecord
from sagemaker_images.states import JOB_SUBJECTS
from sagemaker_images.store.jobs import delete_jobs
from sagemaker_images.store.sql import PageRequest, Queries, Statements, Where
from sagemaker_images.store.tables import Table
from sagemaker_images.store.tags import delete_all_tags

DOMAINS = Table("domains", DomainRecord)
_SELECT = f"SELECT {DOMAINS.select_list} FROM domains"
_BY_ID = f"{_SELECT} WHERE account = ? AND region = ? AND domain_id = ?"


class DomainReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def find(
        self, account: str, region: str, domain_id: str, *, lock: bool = False
    ) -> DomainRecord | None:
        row = await self._q.one(_BY_ID + (" {lock}" if lock else ""), (account, region, domain_id))
        return DOMAINS.record(row) if row else None

    async def by_row(self, row_id: int, *, lock: bool = False) -> DomainRecord | None:
        row = await self._q.one(f"{_SELECT} WHERE id = ?" + (" {lock}" if lock else ""), (row_id,))
        return DOMAINS.record(row) if row else None

    async def named(self, account: str, region: str, name_key: str) -> DomainRecord | None:
        row = await self._q.one(
            f"{_SELECT} WHERE account = ? AND region = ? AND name_key = ?",
            (account, region, name_key),
        )
        return DOMAINS.record(row) if row else None

    async def count(self, account: str, region: str) -> int:
        row = await self._q.one(
            "SELECT COUNT(*) FROM domains WHERE account = ? AND region = ?", (account, region)
        )
        return int(row[0]) if row else 0

    async def page(self, account: str, region: str, page: PageRequest) -> list[DomainRecord]:
        where = Where("account = ? AND region = ?", account, region)
        rows = await self._q.all(f"{_SELECT} WHERE {where.page(page)}", where.params)
        return [DOMAINS.record(row) for row in rows]

    async def every(self, account: str | None, after_id: int, limit: int) -> list[DomainRecord]:
        """Domains (of one account, or all) in the order they were made, for exports."""
        where = Where("id > ?", after_id)
        if account is not None:
            where.add("account = ?", account)
        where.params.append(limit)
        rows = await self._q.all(f"{_SELECT} WHERE {where} ORDER BY id LIMIT ?", where.params)
        return [DOMAINS.record(row) for row in rows]


class DomainWrites(DomainReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def lock_quota(self, account: str, region: str) -> None:
        await self._s.lock_key(f"quota:domains:{account}:{region}")

    async def insert(self, domain: DomainRecord) -> int:
        row = await self._s.one(DOMAINS.insert_sql, DOMAINS.insert_params(domain))
        assert row is not None
        return int(row[0])

    async def update(self, row_id: int, **changes: Any) -> None:
        assignments, params = DOMAINS.assignments(changes)
        await self._s.run(f"UPDATE domains SET {assignments} WHERE id = ?", [*params, row_id])

    async def allocate_uid(self, row_id: int) -> int:
        """The next HomeEfsFileSystemUid of a domain's profiles and spaces."""
        row = await self._s.one(
            "UPDATE domains SET last_uid = last_uid + 1 WHERE id = ? RETURNING last_uid",
            (row_id,),
        )
        assert row is not None
        return int(row[0])

    async def delete(self, row_id: int) -> None:
        await delete_jobs(self._s, JOB_SUBJECTS["domains"], row_id)
        await delete_all_tags(self._s, DOMAIN_TAGS, row_id)
        await self._s.run("DELETE FROM domains WHERE id = ?", (row_id,))
