"""Claims due jobs from the store, runs them, records outcomes; survives restarts.

Jobs live in the database beside the rows they finish, written in the same transaction as
the call that started them. A worker claims a job by leasing it; the job's outcome is
recorded in the transaction that deletes the job, and only if the lease is still ours, so
a job whose worker died is taken over when its lease lapses and never completes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable

from sagemaker_images.jobs.transitions import Transitions
from sagemaker_images.store import Store
from sagemaker_images.store.records import JobRecord

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
HOUSEKEEPING_INTERVAL_MS = 10 * 60 * 1000
CLIENT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000


class Worker:
    def __init__(
        self,
        store: Store,
        transitions: Transitions,
        clock: Callable[[], int],
        *,
        lease_seconds: float,
        concurrency: int = 256,
        poll_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._transitions = transitions
        self._clock = clock
        self._lease_ms = round(lease_seconds * 1000)
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._next_housekeeping_ms = 0
        store.on_job_added(lambda _due_ms: self._wake.set())

    async def start(self) -> None:
        if self._store.single_instance:
            # Nobody else can hold a lease on this database: what a dead process held is ours.
            async with self._store.transaction() as tx:
                released = await tx.release_leases()
            if released:
                log.info("resuming %d job(s) left claimed by an earlier run", released)
        self._loop_task = asyncio.create_task(self._loop(), name="job-worker")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                self._wake.clear()
                await self._claim()
                await self._housekeeping()
                await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker iteration failed; retrying shortly")
                await asyncio.sleep(self._poll_seconds)

    async def _claim(self) -> None:
        free = self._concurrency - len(self._running)
        if free <= 0:
            return
        now = self._clock()
        async with self._store.transaction() as tx:
            jobs = await tx.claim_jobs(self.owner, now, now + self._lease_ms, free)
        for job in jobs:
            task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        if len(jobs) == free:
            self._wake.set()  # there may be more due: look again once a slot frees up

    async def _idle(self) -> None:
        timeout = self._poll_seconds
        if len(self._running) < self._concurrency:
            due = await self._store.reader.next_job_due_ms()
            if due is not None:
                timeout = min(timeout, max(0.0, (due - self._clock()) / 1000))
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _run(self, job: JobRecord) -> None:
        try:
            prepared = await self._transitions.prepare(self._store.reader, job)
            async with self._store.transaction() as tx:
                if await tx.finish_job(job.id, self.owner):
                    await self._transitions.apply(tx, job, prepared, self._clock())
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            await self._after_failure(job, error)
        finally:
            self._wake.set()

    async def _after_failure(self, job: JobRecord, error: Exception) -> None:
        now = self._clock()
        async with self._store.transaction() as tx:
            if job.attempts < MAX_ATTEMPTS:
                backoff_ms = min(60_000, 250 * 2**job.attempts)
                await tx.retry_job(job.id, self.owner, now + backoff_ms)
            elif await tx.finish_job(job.id, self.owner):
                reason = f"Internal error after {job.attempts} attempts: {error}"
                await self._transitions.give_up(tx, job, reason, now)

    async def _housekeeping(self) -> None:
        now = self._clock()
        if now < self._next_housekeeping_ms:
            return
        self._next_housekeeping_ms = now + HOUSEKEEPING_INTERVAL_MS
        async with self._store.transaction() as tx:
            await tx.purge_client_tokens(now - CLIENT_TOKEN_LIFETIME_MS)
