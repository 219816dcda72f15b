"""Durable jobs: the second halves of asynchronous calls, leased to one worker at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sagemaker_images.resources.records import JobRecord
from sagemaker_images.store.events import DELIVER
from sagemaker_images.store.sql import Batch, Queries, Statements, Where
from sagemaker_images.store.tables import Table

JOBS = Table("jobs", JobRecord)


class PendingJob(NamedTuple):
    """A job and the resource it finishes: the row `subject_id` of the table its kind names
    (`states.JOB_SUBJECTS`), and for a version's job its number."""

    id: int
    kind: str
    subject_id: int
    version: int | None


def _of_kinds(where: Where, kinds: Sequence[str]) -> None:
    where.add(f"kind IN ({', '.join('?' for _ in kinds)})", *kinds)


class JobReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def next_due_ms(self) -> int | None:
        """When the next job falls due (or its lease lapses); None when there are none."""
        row = await self._q.one("SELECT MIN(COALESCE(lease_until_ms, due_ms)) FROM jobs")
        return int(row[0]) if row and row[0] is not None else None

    async def schedule(self, owner: str) -> tuple[int | None, int | None]:
        """(When the next job falls due or its lease lapses; when the earliest job leased
        to another owner fell due), each None where there is no such job."""
        row = await self._q.one(
            "SELECT MIN(COALESCE(lease_until_ms, due_ms)),"
            " MIN(CASE WHEN lease_owner <> ? THEN due_ms END) FROM jobs",
            (owner,),
        )
        if row is None:
            return None, None
        due, held = row
        return (None if due is None else int(due)), (None if held is None else int(held))

    async def any_due(self, now_ms: int) -> bool:
        """Whether some transition is due by `now_ms`, running or not (an event's
        delivery is no transition: no call waits for it)."""
        row = await self._q.one(
            "SELECT 1 FROM jobs WHERE due_ms <= ? AND kind <> ? LIMIT 1", (now_ms, DELIVER)
        )
        return row is not None

    async def counts(self, now_ms: int) -> list[tuple[str, str, int]]:
        """(kind, state, count) of the jobs: `running` under a live lease, else `queued`."""
        rows = await self._q.all(
            "SELECT kind, CASE WHEN lease_until_ms >= ? THEN 'running' ELSE 'queued' END AS state,"
            " COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state",
            (now_ms,),
        )
        return [(str(kind), str(state), int(count)) for kind, state, count in rows]

    async def due_of(self, kinds: Sequence[str], subject_id: int) -> dict[int | None, int]:
        """When the transitions in progress of a resource (key None) and of its versions
        (key: the number) are due."""
        where = Where("subject_id = ?", subject_id)
        _of_kinds(where, kinds)
        rows = await self._q.all(
            f"SELECT version, MIN(due_ms) FROM jobs WHERE {where} GROUP BY version",
            where.params,
        )
        return {None if version is None else int(version): int(due) for version, due in rows}

    async def pending(
        self,
        kinds: Sequence[str] | None = None,
        subject_id: int | None = None,
        version: int | None = None,
    ) -> list[PendingJob]:
        """Jobs: every one, or those of `kinds` for one resource (its own, with `version`
        None, or one version's)."""
        where = Where("1 = 1")
        if kinds is not None:
            _of_kinds(where, kinds)
        if subject_id is not None:
            where.add("subject_id = ?", subject_id)
            if version is None:
                where.add("version IS NULL")
            else:
                where.add("version = ?", version)
        rows = await self._q.all(
            f"SELECT id, kind, subject_id, version FROM jobs WHERE {where} ORDER BY id",
            where.params,
        )
        return [PendingJob(int(i), str(k), int(s), v) for i, k, s, v in rows]


class JobWrites(JobReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s
        # The earliest due time this transaction added, for waking workers after commit.
        self.earliest_added_ms: int | None = None

    async def add(self, kind: str, subject_id: int, version: int | None, due_ms: int) -> None:
        await self._s.run(
            "INSERT INTO jobs (kind, subject_id, version, due_ms, attempts) VALUES (?, ?, ?, ?, 0)",
            (kind, subject_id, version, due_ms),
        )
        self.noted(due_ms)

    def noted(self, due_ms: int) -> None:
        """A job due at `due_ms` was added in this transaction (by `add` or by a statement
        that writes one with other rows): announced when the transaction commits."""
        if self.earliest_added_ms is None or due_ms < self.earliest_added_ms:
            self.earliest_added_ms = due_ms

    async def claim(
        self, owner: str, now_ms: int, lease_until_ms: int, limit: int
    ) -> list[JobRecord]:
        """Lease up to `limit` due jobs, oldest first: those nobody holds a live lease on,
        and where servers share the database those whose holder is gone (its presence).

        None while `owner`'s own presence is not held: the other servers would take what
        it claimed over at once, and run it a second time.
        """
        if not await self._s.present(owner):
            return []
        # The rows are chosen and locked in a WITH query, which runs once, and updated by
        # key (`{chosen_jobs}`): as a subquery of `id IN (...)`, PostgreSQL may run it
        # again for each row of the queue (a nested loop, when its statistics say the
        # queue is nearly empty), each run locking more rows: 17,003 jobs were leased by
        # one claim of 64 that way, in two minutes.
        rows = await self._s.all(
            Batch(
                "WITH due AS (SELECT id FROM jobs WHERE due_ms <= ?"
                " AND (lease_until_ms IS NULL OR lease_until_ms < ?{lease_holder_gone})"
                " ORDER BY due_ms LIMIT ? {skip_locked})"
                " UPDATE jobs SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1"
                f" WHERE {{chosen_jobs}} RETURNING {JOBS.select_list}"
            ),
            (now_ms, now_ms, limit, owner, lease_until_ms),
        )
        return [JOBS.record(row) for row in rows]

    async def finish(self, job_ids: Sequence[int], owner: str) -> set[int]:
        """Remove claimed jobs, in one statement: those removed, without the ones whose
        leases passed to someone else meanwhile."""
        marks = ", ".join("?" for _ in job_ids)
        rows = await self._s.all(
            Batch(f"DELETE FROM jobs WHERE lease_owner = ? AND id IN ({marks}) RETURNING id"),
            (owner, *job_ids),
        )
        return {int(row[0]) for row in rows}

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


async def delete_jobs(s: Statements, kinds: Sequence[str], subject_id: int) -> None:
    """Remove the jobs of a resource that is being removed."""
    where = Where("subject_id = ?", subject_id)
    _of_kinds(where, kinds)
    await s.run(f"DELETE FROM jobs WHERE {where}", where.params)
