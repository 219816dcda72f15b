"""The outbox of state-change events: written with the change, read and trimmed by their
deliveries.

An event is one row of `events`, written in the transaction that changes the status it
tells of, and one row of `event_deliveries` for each sink that is to receive it. A sink's
delivery job (`DELIVER`, one at most per sink) is added in the same transaction; the job
sends the sink's events oldest first, and removes each delivery once sent; an event whose
last delivery is gone is removed with it. Nothing is written while no sink is configured.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from sagemaker_images.resources.kinds import IMAGE, VERSION
from sagemaker_images.resources.records import ImageRecord
from sagemaker_images.store.sql import Queries, Statements, Where
from sagemaker_images.store.tags import TagReads

DELIVER = "events.deliver"
# The status an event gives a resource that is gone (the API has none for it).
GONE = "DELETED"
# A sink's delivery job: written, or if it has one, its row locked (and left as it is).
ON_JOB_CONFLICT = (
    f"ON CONFLICT (kind, subject_id) WHERE kind = '{DELIVER}' DO UPDATE SET due_ms = jobs.due_ms"
)
SCHEDULE = (
    "INSERT INTO jobs (kind, subject_id, version, due_ms, attempts)"
    f" VALUES (?, ?, NULL, ?, ?) {ON_JOB_CONFLICT}"
)
# An event's `kind`: the ARN type of the resource it tells of.
IMAGE_EVENT, VERSION_EVENT = IMAGE.arn_type, VERSION.arn_type
COLUMNS = "uuid, account, region, kind, name, version, status, failure_reason, tags, created_ms"


# An image as its versions' events name it: its row id, account, region and name.
ImageRef = tuple[int, str, str, str]


def image_ref(image: ImageRecord) -> ImageRef:
    return image.id, image.account, image.region, image.name


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A status a resource entered: an image (`kind` IMAGE_EVENT; `version` its latest
    version's number) or a version of image `name` (VERSION_EVENT; `version` its number)."""

    account: str
    region: str
    kind: str
    name: str
    version: int | None
    status: str
    failure_reason: str | None
    tags: dict[str, str]
    created_ms: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event in the outbox: its place (`id`, in the order written), its stable `uuid`."""

    id: int
    uuid: str
    event: NewEvent


class EventSinks:
    """The sinks of this server's events, by their numbers in `event_sinks`: those written
    for (`recorded`), of which those sent by a delivery job (`delivered`; the rest are kept
    until read, for tests). Empty until the server registers its sinks: no events then."""

    def __init__(self) -> None:
        self.recorded: tuple[int, ...] = ()
        self.delivered: tuple[int, ...] = ()
        # Events this server wrote (for each of the sinks), counted as they are written.
        self.written = 0

    def set(self, recorded: Sequence[int], delivered: Sequence[int]) -> None:
        self.recorded, self.delivered = tuple(recorded), tuple(delivered)

    @property
    def on(self) -> bool:
        return bool(self.recorded)


def _stored(row: Sequence[object]) -> StoredEvent:
    (id_, uuid_, account, region, kind, name, version, status, reason, tags, created) = row
    event = NewEvent(
        str(account),
        str(region),
        str(kind),
        str(name),
        None if version is None else int(str(version)),
        str(status),
        None if reason is None else str(reason),
        orjson.loads(str(tags)),
        int(str(created)),
    )
    return StoredEvent(int(str(id_)), str(uuid_), event)


@dataclass(frozen=True, slots=True)
class Backlog:
    """A sink's undelivered events: how many, and when the oldest was written."""

    sink_id: int
    count: int
    oldest_ms: int


class EventReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def pending(self, sink_id: int, limit: int) -> list[StoredEvent]:
        """A sink's undelivered events, oldest first."""
        rows = await self._q.all(
            f"SELECT e.id, {', '.join('e.' + c.strip() for c in COLUMNS.split(','))}"
            " FROM event_deliveries d JOIN events e ON e.id = d.event_id"
            " WHERE d.sink_id = ? ORDER BY d.event_id LIMIT ?",
            (sink_id, limit),
        )
        return [_stored(row) for row in rows]

    async def backlogs(self) -> list[Backlog]:
        rows = await self._q.all(
            "SELECT d.sink_id, COUNT(*), MIN(e.created_ms) FROM event_deliveries d"
            " JOIN events e ON e.id = d.event_id GROUP BY d.sink_id"
        )
        return [Backlog(int(s), int(n), int(oldest)) for s, n, oldest in rows]

    async def unscheduled(self, sink_ids: Sequence[int]) -> list[int]:
        """Those of the sinks that have undelivered events and no delivery job."""
        if not sink_ids:
            return []
        rows = await self._q.all(
            "SELECT s.id FROM event_sinks s"
            f" WHERE s.id IN ({', '.join('?' for _ in sink_ids)})"
            " AND EXISTS (SELECT 1 FROM event_deliveries d WHERE d.sink_id = s.id)"
            " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = ? AND j.subject_id = s.id)",
            (*sink_ids, DELIVER),
        )
        return [int(row[0]) for row in rows]


class EventWrites(EventReads):
    def __init__(self, s: Statements, sinks: EventSinks) -> None:
        super().__init__(s)
        self._s = s
        self._tag_reads = TagReads(s)
        self.sinks = sinks
        # The earliest delivery job this transaction asked for: this server's worker is
        # woken for it after the commit. (The other servers are not told: this one runs
        # it, or, if it dies, their next look finds it.)
        self.scheduled_ms: int | None = None
        # Delivery jobs this transaction asks for, by sink: (due, attempts).
        self._wanted: dict[int, tuple[int, int]] = {}

    async def record(self, events: Sequence[NewEvent], now_ms: int) -> None:
        """Write events for every sink, each with a new stable id, and make sure each
        delivered sink has its delivery job (due now, unless it has one already)."""
        sinks = self.sinks
        if not events or not sinks.on:
            return
        marks = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in events)
        params: list[object] = []
        for e in events:
            params += (
                str(uuid.uuid4()),
                e.account,
                e.region,
                e.kind,
                e.name,
                e.version,
                e.status,
                e.failure_reason,
                orjson.dumps(e.tags).decode(),
                e.created_ms,
            )
        rows = await self._s.all(
            f"INSERT INTO events ({COLUMNS}) VALUES {marks} RETURNING id", params
        )
        ids = [int(row[0]) for row in rows]
        sinks.written += len(ids)
        pairs = [(sink, event) for event in ids for sink in sinks.recorded]
        await self._s.run(
            "INSERT INTO event_deliveries (sink_id, event_id) VALUES "
            + ", ".join("(?, ?)" for _ in pairs),
            [value for pair in pairs for value in pair],
        )
        for sink in sinks.delivered:
            await self.schedule(sink, now_ms)

    async def image(
        self,
        image: ImageRecord,
        status: str,
        now_ms: int,
        reason: str | None = None,
    ) -> None:
        """An image entered `status`: its event, with its tags and latest version as they
        are now (before they are removed, for DELETED)."""
        if not self.sinks.on:
            return
        row = await self._s.one(
            "SELECT MAX(version) FROM image_versions WHERE image_id = ?", (image.id,)
        )
        latest = None if row is None or row[0] is None else int(row[0])
        tags = await self._tags(image.id)
        event = NewEvent(
            image.account,
            image.region,
            IMAGE_EVENT,
            image.name,
            latest,
            status,
            reason,
            tags,
            now_ms,
        )
        await self.record([event], now_ms)

    async def versions(
        self,
        image: ImageRef,
        entered: Sequence[tuple[int, str, str | None]],
        now_ms: int,
    ) -> None:
        """Versions of an image (its row id, account, region and name) entered statuses:
        (number, status, FailureReason) each."""
        if not self.sinks.on or not entered:
            return
        image_id, account, region, name = image
        tags = await self._tags(image_id)
        await self.record(
            [
                NewEvent(account, region, VERSION_EVENT, name, number, status, reason, tags, now_ms)
                for number, status, reason in entered
            ],
            now_ms,
        )

    async def _tags(self, image_id: int) -> dict[str, str]:
        return await self._tag_reads.of(IMAGE.arn_type, image_id)

    async def schedule(self, sink_id: int, due_ms: int, attempts: int = 0) -> None:
        """The sink's delivery job, due at `due_ms`, unless it has one: asked for when the
        transaction commits (`flush`)."""
        wanted = self._wanted.get(sink_id)
        if wanted is None or due_ms < wanted[0]:
            self._wanted[sink_id] = (due_ms, attempts)

    def begin(self) -> None:
        """A new transaction on these writes: nothing asked for yet."""
        self._wanted.clear()
        self.scheduled_ms = None

    async def flush(self) -> None:
        """Ask for the delivery jobs this transaction wants, last before its commit.

        On PostgreSQL the statement locks the job's row (or waits for the transaction that
        removes it), so a delivery that is finishing either sees this transaction's events
        or has gone before the job is written anew: none is left without a job. Taken last,
        the lock is never held while waiting for another, so it makes no deadlock with the
        resource rows every change locks first."""
        wanted, self._wanted = sorted(self._wanted.items()), {}
        for sink_id, (due_ms, attempts) in wanted:
            await self._s.run(SCHEDULE, (DELIVER, sink_id, due_ms, attempts))
            if self.scheduled_ms is None or due_ms < self.scheduled_ms:
                self.scheduled_ms = due_ms

    async def delivered(self, sink_id: int, event_ids: Sequence[int]) -> None:
        """The sink has these events: forget its deliveries, and the events no sink waits
        for any more."""
        if not event_ids:
            return
        marks = ", ".join("?" for _ in event_ids)
        await self._s.run(
            f"DELETE FROM event_deliveries WHERE sink_id = ? AND event_id IN ({marks})",
            (sink_id, *event_ids),
        )
        await self._s.run(
            f"DELETE FROM events WHERE id IN ({marks}) AND NOT EXISTS"
            " (SELECT 1 FROM event_deliveries d WHERE d.event_id = events.id)",
            event_ids,
        )

    async def forget(self, sink_id: int) -> int:
        """Drop every delivery of a sink (and the events no sink waits for any more): how
        many there were."""
        forgotten = await self._s.run("DELETE FROM event_deliveries WHERE sink_id = ?", (sink_id,))
        await self._s.run(
            "DELETE FROM events WHERE NOT EXISTS"
            " (SELECT 1 FROM event_deliveries d WHERE d.event_id = events.id)"
        )
        return forgotten

    async def has_pending(self, sink_id: int) -> bool:
        row = await self._s.one(
            "SELECT 1 FROM event_deliveries WHERE sink_id = ? LIMIT 1", (sink_id,)
        )
        return row is not None

    async def register(self, names: Sequence[str], now_ms: int) -> dict[str, int]:
        """The numbers of the sinks named, each given one the first time it is seen; each
        marked seen now."""
        if not names:
            return {}
        for name in names:
            await self._s.run(
                "INSERT INTO event_sinks (name, seen_ms) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET seen_ms = excluded.seen_ms",
                (name, now_ms),
            )
        rows = await self._s.all(
            f"SELECT name, id FROM event_sinks WHERE name IN ({', '.join('?' for _ in names)})",
            names,
        )
        return {str(name): int(id_) for name, id_ in rows}

    async def retire(self, seen_before_ms: int, keep: Sequence[int]) -> list[str]:
        """Forget the sinks no server has named since `seen_before_ms` (but those kept):
        their undelivered events and their delivery jobs. Their names."""
        where = Where("seen_ms < ?", seen_before_ms)
        if keep:
            where.add(f"id NOT IN ({', '.join('?' for _ in keep)})", *keep)
        rows = await self._s.all(f"SELECT id, name FROM event_sinks WHERE {where}", where.params)
        for sink_id, _ in rows:
            await self.forget(int(sink_id))
            await self._s.run(
                "DELETE FROM jobs WHERE kind = ? AND subject_id = ?", (DELIVER, int(sink_id))
            )
            await self._s.run("DELETE FROM event_sinks WHERE id = ?", (int(sink_id),))
        return [str(name) for _, name in rows]

    async def clear(self, account: str | None = None) -> None:
        """Forget undelivered events (of one account): a test's catalog starts again."""
        if account is None:
            await self._s.run("DELETE FROM event_deliveries")
            await self._s.run("DELETE FROM events")
            return
        of_account = "SELECT id FROM events WHERE account = ?"
        await self._s.run(
            f"DELETE FROM event_deliveries WHERE event_id IN ({of_account})", (account,)
        )
        await self._s.run("DELETE FROM events WHERE account = ?", (account,))
