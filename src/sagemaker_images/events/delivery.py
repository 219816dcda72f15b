"""Sending the outbox: each sink's delivery job, run by the job worker like a transition.

A sink's job takes its oldest undelivered events (a batch) and sends them in waves, each
wave at most one event per resource: a resource's events go out in the order they were
written, and one the sink refused holds back that resource's later events, not the other
resources'. The job's outcome is recorded in the transaction that removes it: the events
sent lose their delivery (and leave the outbox once no sink waits for them), and the job
is asked for again, at once while events remain, or after a capped, jittered exponential
backoff when the sink refused some. It never gives up: a sink that is down keeps its
events in the database until it is back, and its lag shows in the metrics.

An event sent but not yet recorded as sent (the server died between the two) is sent
again: delivery is at least once, and each event keeps its `id` for consumers to drop the
repeat.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sagemaker_images.events.envelope import resource_arn
from sagemaker_images.events.sinks import Sink
from sagemaker_images.resources.records import JobRecord
from sagemaker_images.store import Reads, Store, Writes
from sagemaker_images.store.events import StoredEvent

log = logging.getLogger(__name__)

# Events a delivery job takes at once.
BATCH = 100
# Backoff after a refusal: from BACKOFF_BASE seconds, doubling, at most BACKOFF_CAP, each
# wait drawn between half of it and all of it.
BACKOFF_BASE = 0.25
BACKOFF_CAP = 10.0
# How often a server looks for sinks whose events wait without a job (see `sweep`).
SWEEP_SECONDS = 1.0
# How often a server says which sinks it is given; a sink no server has named for
# RETIRE_AFTER_MS is retired (where servers share a database: see `sweep`).
NAMED_SECONDS = 60.0
RETIRE_AFTER_MS = 10 * 60 * 1000


def backoff_ms(attempts: int, draw: Callable[[], float] = random.random) -> int:
    """The wait after the `attempts`-th refusal in a row."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return int(ceiling * (0.5 + draw() / 2) * 1000)


def waves(events: Sequence[StoredEvent]) -> list[list[StoredEvent]]:
    """The events in waves: the n-th wave holds each resource's n-th event."""
    found: list[list[StoredEvent]] = []
    seen: dict[str, int] = {}
    for stored in events:
        arn = resource_arn(stored.event)
        n = seen.get(arn, 0)
        seen[arn] = n + 1
        if n == len(found):
            found.append([])
        found[n].append(stored)
    return found


def _log_deliveries(pending: Sequence[StoredEvent], delivered: set[int], label: str) -> None:
    """One debug line per event sent or held back: its id, resource and status."""
    for stored in pending:
        said = "delivered to" if stored.id in delivered else "not yet delivered to"
        arn, status = resource_arn(stored.event), stored.event.status
        log.debug("event %s (%s %s) %s %s", stored.uuid, arn, status, said, label)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a delivery job did: the events its sink took, and why it refused others."""

    sink_id: int
    delivered: list[int]
    failure: str | None


@dataclass(slots=True)
class SinkStats:
    """What this server delivered to one sink since it started."""

    delivered: int = 0
    retried: int = 0


@dataclass(slots=True)
class Deliveries:
    """The delivery jobs of this server's sinks, by their numbers in the database."""

    sinks: Mapping[int, Sink]
    # Every sink this server writes events for, by name (the kept one too).
    named: tuple[str, ...] = ()
    lease_seconds: float = 30.0
    stats: dict[int, SinkStats] = field(default_factory=dict)
    _swept_at: float = 0.0
    _named_at: float = field(default_factory=time.monotonic)

    async def prepare(self, reads: Reads, job: JobRecord) -> Outcome:
        """Send the sink's oldest events, in waves; within half a lease, so that no other
        server takes the job over while this one is still sending."""
        sink = self.sinks.get(job.subject_id)
        if sink is None:
            # Another server's, or one no server is given any more (retired in time).
            return Outcome(job.subject_id, [], "this server is not given that sink")
        pending = await reads.events.pending(job.subject_id, BATCH)
        deadline = time.monotonic() + self.lease_seconds / 2
        delivered: list[int] = []
        failure = None
        held: set[str] = set()
        for wave in waves(pending):
            wave = [e for e in wave if resource_arn(e.event) not in held]
            if not wave:
                continue
            if time.monotonic() > deadline:
                break  # the rest next time: the job is asked for again at once
            sent = await sink.send(wave)
            delivered += sent.delivered
            if sent.failure is not None:
                failure = failure or sent.failure
                taken = set(sent.delivered)
                held.update(resource_arn(e.event) for e in wave if e.id not in taken)
        if log.isEnabledFor(logging.DEBUG):
            _log_deliveries(pending, set(delivered), sink.label)
        return Outcome(job.subject_id, delivered, failure)

    async def apply(self, tx: Writes, job: JobRecord, outcome: Outcome, now_ms: int) -> None:
        """Record what was sent, and ask for the job again if anything is left."""
        await tx.events.delivered(outcome.sink_id, outcome.delivered)
        stats = self.stats.setdefault(outcome.sink_id, SinkStats())
        stats.delivered += len(outcome.delivered)
        if outcome.failure is not None:
            wait = backoff_ms(job.attempts)
            stats.retried += 1
            sink = self.sinks.get(outcome.sink_id)
            log.warning(
                "events to %s: %s; sending again in %.2fs (attempt %d)",
                sink.label if sink else f"sink {outcome.sink_id}",
                outcome.failure,
                wait / 1000,
                job.attempts,
            )
            await tx.events.schedule(outcome.sink_id, now_ms + wait, job.attempts)
        elif await tx.events.has_pending(outcome.sink_id):
            await tx.events.schedule(outcome.sink_id, now_ms)

    async def failed(self, tx: Writes, job: JobRecord, now_ms: int) -> None:
        """The job failed for a reason of ours (its reads): ask for it again later."""
        await tx.events.schedule(job.subject_id, now_ms + backoff_ms(job.attempts), job.attempts)

    async def sweep(self, store: Store, now_ms: int) -> None:
        """At most once a second: a job for each sink whose events wait without one. A
        safety net: every transaction that writes events asks for its sinks' jobs
        (store/events.py), so none should be found; one found is logged."""
        now = time.monotonic()
        if now - self._named_at >= NAMED_SECONDS and self.named:
            self._named_at = now
            await self._retire(store, now_ms)
        if now - self._swept_at < SWEEP_SECONDS or not self.sinks:
            return
        self._swept_at = now
        orphans = await store.reader.events.unscheduled(list(self.sinks))
        if orphans:
            log.warning("events waited without a delivery job, for sinks %s", orphans)
            async with store.transaction() as tx:
                for sink_id in orphans:
                    await tx.events.schedule(sink_id, now_ms)

    async def _retire(self, store: Store, now_ms: int) -> None:
        """Say again which sinks this server is given, and retire those no server has
        named for RETIRE_AFTER_MS: a sink taken out of every server's settings leaves no
        events behind, nor a job that every server would put back for ever."""
        async with store.transaction() as tx:
            ids = await tx.events.register(self.named, now_ms)
            retired = await tx.events.retire(now_ms - RETIRE_AFTER_MS, list(ids.values()))
        if retired:
            log.info("events: no server sends to %s any more; their events are dropped", retired)

    async def close(self) -> None:
        for sink in self.sinks.values():
            await sink.close()
