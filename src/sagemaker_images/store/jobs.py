"""Durable jobs: the second halves of asynchronous calls, leased to one worker at a time."""

from __future__ import annotations

from sagemaker_images.records import JobRecord
from sagemaker_images.store.sql import Queries, Statements
from sagemaker_images.store.tables import Table

JOBS = Table("jobs", JobRecord)


class JobReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def next_due_ms(self) -> int | None:
        """When the next job falls due (or its lease lapses); None when there are none."""
        row = await self._q.one("SELECT MIN(COALESCE(lease_until_ms, due_ms)) FROM jobs")
        return int(row[0]) if row and row[0] is not None else None


class JobWrites(JobReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s
        # The earliest due time this transaction added, for waking workers after commit.
        self.earliest_added_ms: int | None = None

    async def add(self, kind: str, image_id: int, version: int | None, due_ms: int) -> None:
        await self._s.run(
            "INSERT INTO jobs (kind, image_id, version, due_ms, attempts) VALUES (?, ?, ?, ?, 0)",
            (kind, image_id, version, due_ms),
        )
        if self.earliest_added_ms is None or due_ms < self.earliest_added_ms:
            self.earliest_added_ms = due_ms

    async def claim(
        self, owner: str, now_ms: int, lease_until_ms: int, limit: int
    ) -> list[JobRecord]:
        """Lease up to `limit` due jobs that nobody holds a live lease on, oldest first."""
        rows = await self._s.all(
            "UPDATE jobs SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM jobs WHERE due_ms <= ?"
            " AND (lease_until_ms IS NULL OR lease_until_ms < ?)"
            " ORDER BY due_ms LIMIT ? {skip_locked})"
            f" RETURNING {JOBS.select_list}",
            (owner, lease_until_ms, now_ms, now_ms, limit),
        )
        return [JOBS.record(row) for row in rows]

    async def finish(self, job_id: int, owner: str) -> bool:
        """Remove a claimed job; False if its lease passed to someone else meanwhile."""
        removed = await self._s.run(
            "DELETE FROM jobs WHERE id = ? AND lease_owner = ?", (job_id, owner)
        )
        return removed == 1

    async def retry(self, job_id: int, owner: str, due_ms: int) -> None:
        await self._s.run(
            "UPDATE jobs SET due_ms = ?, lease_owner = NULL, lease_until_ms = NULL"
            " WHERE id = ? AND lease_owner = ?",
            (due_ms, job_id, owner),
        )

    async def release_leases(self) -> int:
        """Free every lease (only where no other server can hold one)."""
        return await self._s.run(
            "UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL"
            " WHERE lease_owner IS NOT NULL"
        )
