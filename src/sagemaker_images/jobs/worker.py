"""Claims due jobs from the store, runs them, records outcomes; survives restarts.

Jobs live in the database beside the rows they finish, written in the same transaction as
the call that started them. A worker claims a job by leasing it; the job's outcome is
recorded in the transaction that deletes the job, and only if the lease is still ours, so
a job whose worker died is taken over when its lease lapses and never completes twice.

Each claimed job prepares on its own (that may mean waiting on a registry); finished
preparations queue up and are committed together, one transaction for many jobs.

Where servers share a database, each worker holds its presence (`Store.presence`) while it
runs: a job leased to a server whose presence is gone is taken over at once, and jobs that
any server adds are heard of as they commit. The worker sleeps until the next job falls
due, or until it hears of an earlier one; polling remains the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from sagemaker_images.jobs.retry import RetryPolicy
from sagemaker_images.jobs.transitions import Loaded, Transitions
from sagemaker_images.registry.resolver import TransientFailure
from sagemaker_images.resources.records import CLIENT_TOKEN_LIFETIME_MS, JobRecord
from sagemaker_images.store import Presence, Store
from sagemaker_images.store.events import DELIVER

log = logging.getLogger(__name__)

# Jobs share the event loop with requests: claim and commit them in batches small enough
# that a request never waits long behind them, large enough to amortise a transaction.
BATCH = 64
HOUSEKEEPING_INTERVAL_MS = 10 * 60 * 1000
# While another server runs jobs that are due, look again this often rather than every
# poll: should it die, its jobs are taken over within this. A look is a claim and one read
# of the jobs table, made only by servers that share a database with a busy one.
WATCH_SECONDS = 0.5

Prepared = tuple[JobRecord, Any]


class Worker:
    def __init__(
        self,
        store: Store,
        transitions: Transitions,
        clock: Callable[[], int],
        *,
        lease_seconds: float,
        concurrency: int = 1024,
        poll_seconds: float = 1.0,
        retry: RetryPolicy | None = None,
        max_attempts: int = 8,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self._store = store
        self._transitions = transitions
        self._clock = clock
        self._lease_ms = round(lease_seconds * 1000)
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._retry = retry or RetryPolicy()
        self._max_attempts = max_attempts
        # (kind, outcome: done, gave_up or retried, seconds from claim to outcome)
        self._observe = observe or (lambda kind, outcome, seconds: None)
        # The jobs claimed and not yet recorded (preparing, or waiting to be committed),
        # with when: at most `concurrency` of them, so a commit loop that falls behind
        # holds claiming back rather than leasing ever more jobs it cannot record.
        self._claimed_at: dict[int, float] = {}
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: set[asyncio.Task[None]] = set()
        self._prepared: asyncio.Queue[Prepared] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._next_housekeeping_ms = 0
        self._unrecorded: list[tuple[JobRecord, Exception]] = []
        # Replaced (after being set) each time outcomes are recorded: `settle` waits on it.
        self._progress = asyncio.Event()
        self._presence = Presence()
        # The earliest due time heard of since the worker last looked at the jobs, and
        # while it sleeps, when it will look next (a job due before that wakes it).
        self._noticed_ms: int | None = None
        self._sleep_until_ms: int | None = None
        store.on_job_added(self._noticed)

    async def start(self) -> None:
        self._presence = self._store.presence(self.owner, self._noticed)
        await self._presence.start()
        if self._store.single_instance:
            # Nobody else can hold a lease on this database: what a dead process held is ours.
            async with self._store.transaction() as tx:
                released = await tx.jobs.release_leases()
            if released:
                log.info("resuming %d job(s) left claimed by an earlier run", released)
        waiting = sum(count for _, _, count in await self._store.reader.jobs.counts(0))
        if waiting:
            log.info("%d pending transition(s) to finish, from earlier calls", waiting)
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="job-claims"),
            asyncio.create_task(self._commit_loop(), name="job-commits"),
        ]

    async def stop(self, grace_seconds: float = 5.0) -> None:
        self._stopping = True
        claims, commits = self._tasks or (None, None)
        if claims is not None:
            await _cancelled(claims)
        if self._running:
            await asyncio.wait(self._running, timeout=grace_seconds)
        if commits is not None:
            # Let what has been prepared be recorded; unfinished jobs are resumed later.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), grace_seconds)
            await _cancelled(commits)
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self._presence.stop()

    async def settle(self, timeout_seconds: float = 30.0) -> None:
        """Return once no job is due: every transition due by now has been recorded (or,
        failing for now, rescheduled). What `--transitions immediate` waits for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while await self._store.reader.jobs.any_due(self._clock()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning("transitions still due after %.0fs; answering anyway", timeout_seconds)
                return
            progress = self._progress
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), min(0.05, remaining))

    def _progressed(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    async def _drained(self) -> None:
        while not self._prepared.empty():
            await asyncio.sleep(0.01)

    # -- claiming ---------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping:
            try:
                self._wake.clear()
                await self._record_failures()
                await self._claim()
                await self._transitions.sweep(self._store, self._clock())
                await self._housekeeping()
                await self._idle()
                await asyncio.sleep(0)  # an Event already set does not yield
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming jobs failed; retrying shortly")
                await asyncio.sleep(self._poll_seconds)

    async def _claim(self) -> None:
        free = min(BATCH, self._concurrency - len(self._claimed_at))
        if free <= 0:
            return
        now = self._clock()
        async with self._store.transaction() as tx:
            jobs = await tx.jobs.claim(self.owner, now, now + self._lease_ms, free)
        claimed_at = time.monotonic()
        loaded = await self._preload(jobs)
        for job in jobs:
            self._claimed_at[job.id] = claimed_at
            task = asyncio.create_task(self._prepare(job, loaded), name=f"job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        if len(jobs) == free:
            self._wake.set()  # there may be more due: look again once a slot frees up

    def _noticed(self, due_ms: int) -> None:
        """Jobs were added, the first due at `due_ms` (here, or heard from another server):
        wake only if that is before the worker looks anyway."""
        if self._noticed_ms is None or due_ms < self._noticed_ms:
            self._noticed_ms = due_ms
        if self._sleep_until_ms is not None and due_ms < self._sleep_until_ms:
            self._wake.set()

    async def _idle(self) -> None:
        timeout = self._poll_seconds
        if len(self._claimed_at) < self._concurrency and self._presence.held:
            due, held_elsewhere = await self._store.reader.jobs.schedule(self.owner)
            now = self._clock()
            # What was heard of while reading is not in what was read; nothing is heard
            # between here and setting _sleep_until_ms (no await).
            noticed, self._noticed_ms = self._noticed_ms, None
            for at in (due, noticed):
                if at is not None:
                    timeout = min(timeout, max(0.0, (at - now) / 1000))
            if held_elsewhere is not None and held_elsewhere <= now:
                timeout = min(timeout, WATCH_SECONDS)
        if timeout > 0:
            self._sleep_until_ms = self._clock() + round(timeout * 1000)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            finally:
                self._sleep_until_ms = None

    async def _preload(self, jobs: list[JobRecord]) -> Loaded | None:
        """What the jobs' preparations read, at once; None (each reads its own, and fails
        on its own) if that failed."""
        if not jobs:
            return None
        try:
            return await self._transitions.preload(self._store.reader, jobs)
        except Exception:
            log.warning("reading a batch of jobs failed; each job reads its own", exc_info=True)
            return None

    async def _prepare(self, job: JobRecord, loaded: Loaded | None) -> None:
        try:
            prepared = await self._transitions.prepare(self._store.reader, job, loaded)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not isinstance(error, TransientFailure):
                log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            await self._after_failure(job, error)
            self._progressed()
            self._wake.set()
            return
        self._prepared.put_nowait((job, prepared))

    # -- committing -------------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        while True:
            batch = [await self._prepared.get()]
            while len(batch) < BATCH and not self._prepared.empty():
                batch.append(self._prepared.get_nowait())
            # Deliveries of events in a transaction of their own: theirs locks a sink's
            # job row first, a transition's the rows of its resources first (store/events.py).
            for part in _apart(batch):
                await self._commit(part)
            self._progressed()
            self._wake.set()
            await asyncio.sleep(0)

    async def _commit(self, batch: list[Prepared]) -> None:
        """Record prepared jobs in one transaction."""
        try:
            async with self._store.transaction() as tx:
                now = self._clock()
                finished = await tx.jobs.finish([job.id for job, _ in batch], self.owner)
                await self._transitions.apply_all(
                    tx, [item for item in batch if item[0].id in finished], now
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            # One bad job must not hold back the others: record them one by one.
            for item in batch:
                await self._commit_one(item)
        else:
            for job, _ in batch:
                self._observed(job, "done")

    async def _commit_one(self, item: Prepared) -> None:
        job, prepared = item
        try:
            async with self._store.transaction() as tx:
                if await tx.jobs.finish([job.id], self.owner):
                    await self._transitions.apply(tx, job, prepared, self._clock())
        except Exception as error:
            log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            await self._after_failure(job, error)
        else:
            self._observed(job, "done")

    def _next_step(self, job: JobRecord, error: Exception) -> tuple[int | None, str]:
        """(milliseconds until the next try, or None to give up; the reason if giving up).

        A registry out of reach is retried within its own window and then named in the
        FailureReason; anything else is our fault, retried a few times with backoff.
        """
        if isinstance(error, TransientFailure):
            delay = self._retry.next_delay(job.attempts)
            return (None if delay is None else round(delay * 1000)), error.reason_after(
                job.attempts
            )
        if job.attempts < self._max_attempts:
            return min(60_000, 250 * 2**job.attempts), ""
        return None, f"Internal error after {job.attempts} attempts: {error}"

    async def _after_failure(self, job: JobRecord, error: Exception) -> None:
        now = self._clock()
        delay_ms, reason = self._next_step(job, error)
        try:
            async with self._store.transaction() as tx:
                if delay_ms is not None:
                    log.warning(
                        "job %s: %s; try %d again in %.2fs",
                        job.id,
                        error,
                        job.attempts + 1,
                        delay_ms / 1000,
                    )
                    await tx.jobs.retry(job.id, self.owner, now + delay_ms)
                    outcome = "retried"
                elif await tx.jobs.finish([job.id], self.owner):
                    log.warning("job %s gave up: %s", job.id, reason)
                    await self._transitions.give_up(tx, job, reason, now)
                    outcome = "gave_up"
                else:
                    outcome = "lost"  # its lease went to another worker meanwhile
            self._observed(job, outcome)
        except Exception:
            # The database is out of reach: try again on the next round, rather than leave
            # the job to wait out its lease (which still covers it if this server dies).
            log.exception("could not record the failure of job %s", job.id)
            self._unrecorded.append((job, error))

    def _observed(self, job: JobRecord, outcome: str) -> None:
        claimed_at = self._claimed_at.pop(job.id, None)
        if claimed_at is not None:
            self._observe(job.kind, outcome, time.monotonic() - claimed_at)

    async def _record_failures(self) -> None:
        pending, self._unrecorded = self._unrecorded, []
        for job, error in pending:
            await self._after_failure(job, error)

    async def _housekeeping(self) -> None:
        now = self._clock()
        if now < self._next_housekeeping_ms:
            return
        self._next_housekeeping_ms = now + HOUSEKEEPING_INTERVAL_MS
        async with self._store.transaction() as tx:
            await tx.versions.purge_client_tokens(now - CLIENT_TOKEN_LIFETIME_MS)


def _apart(batch: list[Prepared]) -> list[list[Prepared]]:
    """The batch as transitions, then event deliveries (either part left out if empty)."""
    deliveries = [item for item in batch if item[0].kind == DELIVER]
    others = [item for item in batch if item[0].kind != DELIVER]
    return [part for part in (others, deliveries) if part]


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel a loop and wait until it has ended. Python 3.11's `wait_for` can swallow a
    cancellation that arrives as what it waits for completes, so a loop may carry on: it
    is cancelled again until it ends (the claim loop also stops at its next turn)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
