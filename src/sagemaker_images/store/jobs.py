"""Durable jobs: the second halves of asynchronous calls, leased to one worker at a time."""

from __future__ import annotations

from typing import NamedTuple

from sagemaker_images.records import JobRecord
from sagemaker_images.store.sql import Queries, Statements, Where
from sagemaker_images.store.tables import Table

JOBS = Table("jobs", JobRecord)


class PendingJob(NamedTuple):
    """A job and the resource it finishes."""

    id: int
    kind: str
    account: str
    region: str
    image_name: str
    version: int | None


class JobReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def next_due_ms(self) -> int | None:
        """When the next job falls due (or its lease lapses); None when there are none."""
        row = await self._q.one("SELECT MIN(COALESCE(lease_until_ms, due_ms)) FROM jobs")
        return int(row[0]) if row and row[0] is not None else None

    async def any_due(self, now_ms: int) -> bool:
        """Whether some job is due by `now_ms`, running or not."""
        row = await self._q.one("SELECT 1 FROM jobs WHERE due_ms <= ? LIMIT 1", (now_ms,))
        return row is not None

    async def counts(self, now_ms: int) -> list[tuple[str, str, int]]:
        """(kind, state, count) of the jobs: `running` under a live lease, else `queued`."""
        rows = await self._q.all(
            "SELECT kind, CASE WHEN lease_until_ms >= ? THEN 'running' ELSE 'queued' END AS state,"
            " COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state",
            (now_ms,),
        )
        return [(str(kind), str(state), int(count)) for kind, state, count in rows]

    async def due_of(self, image_id: int) -> dict[int | None, int]:
        """When the transitions in progress of an image (key None) and of its versions (key:
        the number) are due."""
        rows = await self._q.all(
            "SELECT version, MIN(due_ms) FROM jobs WHERE image_id = ? GROUP BY version",
            (image_id,),
        )
        return {None if version is None else int(version): int(due) for version, due in rows}

    async def pending(
        self, image_id: int | None = None, version: int | None = None
    ) -> list[PendingJob]:
        """Jobs with what names their resource: every one, an image's own (`version` None),
        or one version's."""
        where = Where("1 = 1")
        if image_id is not None:
            where.add("j.image_id = ?", image_id)
            if version is None:
                where.add("j.version IS NULL")
            else:
                where.add("j.version = ?", version)
        rows = await self._q.all(
            "SELECT j.id, j.kind, i.account, i.region, i.name, j.version FROM jobs j"
            f" JOIN images i ON i.id = j.image_id WHERE {where} ORDER BY j.id",
            where.params,
        )
        return [PendingJob(*row) for row in rows]


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

    async def hasten(self, job_ids: list[int], now_ms: int, fail_reason: str | None) -> None:
        """Make jobs due now; with `fail_reason`, their resources end *_FAILED with it."""
        for job_id in job_ids:
            await self._s.run(
                "UPDATE jobs SET due_ms = ?, fail_reason = ? WHERE id = ?",
                (now_ms, fail_reason, job_id),
            )
        if job_ids:  # wake the workers once this commits, as for a new job
            self.earliest_added_ms = now_ms

    async def release_leases(self) -> int:
        """Free every lease (only where no other server can hold one)."""
        return await self._s.run(
            "UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL"
            " WHERE lease_owner IS NOT NULL"
        )
