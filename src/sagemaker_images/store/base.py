"""The store's face: a reader, transactions, the creation of versions, and listeners for
new jobs.

`Reads` and `Writes` group the queries by resource: `reads.of(IMAGE).find(...)` for the rows
of any kind (`rows.py`, made from the kind's declaration), and a module each for what is
not a kind's rows (`tx.versions.insert(...)`, aliases, tags, jobs, the web catalog's
reads), each written once in portable SQL over the primitives a dialect provides
(`sql.Queries`, `sql.Statements`). `Reads` outside a transaction see the last commit;
`Writes` exist only inside `Store.transaction()` and are committed when its block ends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sagemaker_images.resources.kinds import IMAGE, TABLED, ResourceKind, jobs_of_subject
from sagemaker_images.resources.records import CLIENT_TOKEN_LIFETIME_MS
from sagemaker_images.store.aliases import AliasReads, AliasWrites
from sagemaker_images.store.browse import BrowseReads
from sagemaker_images.store.drift import DriftReads, DriftWrites
from sagemaker_images.store.errors import DuplicateKey
from sagemaker_images.store.events import EventReads, EventSinks, EventWrites
from sagemaker_images.store.jobs import JobReads, JobWrites
from sagemaker_images.store.rows import Rows, RowWrites
from sagemaker_images.store.sql import Queries, Statements
from sagemaker_images.store.tags import TagReads, TagWrites
from sagemaker_images.store.versions import (
    Created,
    NewVersion,
    Refused,
    VersionReads,
    VersionWrites,
    Why,
)

R = TypeVar("R")
# Tries of a version's writes that another call's change refused (its checks then pass):
# past them the caller is told to retry.
CREATE_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class Located:
    """A resource an ARN names: its kind, its row (a version's: its image's), its number."""

    kind: ResourceKind[Any]
    row_id: int
    number: int | None = None


class Reads:
    def __init__(self, q: Queries) -> None:
        self._rows: dict[ResourceKind[Any], Rows[Any]] = {k: Rows(q, k) for k in TABLED}
        self.versions = VersionReads(q)
        self.aliases = AliasReads(q)
        self.tags = TagReads(q)
        self.jobs = JobReads(q)
        self.browse = BrowseReads(q)
        self.drift = DriftReads(q)
        self.events = EventReads(q)

    def of(self, kind: ResourceKind[R]) -> Rows[R]:
        """The rows of a kind that has rows of its own."""
        rows: Rows[R] = self._rows[kind]
        return rows

    async def locate(
        self, kind: ResourceKind[Any], account: str, region: str, path: tuple[str, ...]
    ) -> Located | None:
        """The resource of `kind` whose ARN has the path `path` (`ResourceKind.segments`),
        if there is one."""
        if not kind.within_parent:
            found = await self.of(kind).find(account, region, *path)
            return None if found is None else Located(kind, found.id)
        assert kind.parent is not None
        parent = await self.of(kind.parent).find(account, region, *path[:-1])
        number = path[-1]
        if parent is None or not number.isdigit() or len(number) > 18:
            return None
        if await self.versions.find(parent.id, int(number)) is None:
            return None
        return Located(kind, parent.id, int(number))


class Writes(Reads):
    versions: VersionWrites
    aliases: AliasWrites
    tags: TagWrites
    jobs: JobWrites
    drift: DriftWrites
    events: EventWrites

    def __init__(self, s: Statements, sinks: EventSinks | None = None) -> None:
        # Not super().__init__(): each resource's writes include its reads.
        self._s = s
        self._rows = {k: RowWrites(s, k) for k in TABLED}
        self.versions = VersionWrites(s)
        self.aliases = AliasWrites(s)
        self.tags = TagWrites(s)
        self.jobs = JobWrites(s)
        self.browse = BrowseReads(s)
        self.drift = DriftWrites(s)
        self.events = EventWrites(s, sinks or EventSinks())

    def of(self, kind: ResourceKind[R]) -> RowWrites[R]:
        rows: RowWrites[R] = self._rows[kind]  # type: ignore[assignment]
        return rows

    async def create_version(self, new: NewVersion) -> tuple[str, int] | None:
        """Number a new version of the image and write it with its aliases, its client
        token and its job: the image and the number come from the image's counter. The
        image's stored name and the number; None, and nothing written, when there is no
        such image, or it is no longer in `new.status`, holds `new.limit` versions or has a
        version made with the token. An alias or a client token that another call took
        meanwhile raises DuplicateKey."""
        allocated = await self.versions.allocate_number(
            new.image, new.status, new.limit, new.token.token
        )
        if allocated is None:
            return None
        image_id, name, number = allocated
        await self.versions.insert(replace(new.version, image_id=image_id, version=number))
        await self.aliases.add(image_id, number, new.aliases)
        await self.versions.insert_client_token(
            replace(new.token, image_id=image_id, version=number)
        )
        await self.jobs.add(new.job[0], image_id, number, new.job[1])
        account, region, _ = new.image
        await self.events.versions(
            (image_id, account, region, name),
            [(number, new.version.status, None)],
            new.version.created_ms,
        )
        return name, number

    async def reset(self, account: str | None = None) -> None:
        """Delete every resource (of one account, if given), with what hangs off each: its
        dependent rows (versions, aliases, client tokens), tags and pending jobs."""
        s = self._s
        tables = [t for kind in reversed(TABLED) for t in (*kind.dependents, kind.table)]
        await self.events.clear(account)
        if account is None:
            for table in ("jobs", "tags", *tables):
                await s.run(f"DELETE FROM {table}")
            return
        for kind in reversed(TABLED):
            rows = f"SELECT id FROM {kind.table} WHERE account = ?"
            for table in kind.dependents:
                await s.run(f"DELETE FROM {table} WHERE {kind.name}_id IN ({rows})", (account,))
            jobs = jobs_of_subject(kind)
            if jobs:
                await s.run(
                    f"DELETE FROM jobs WHERE kind IN ({', '.join('?' for _ in jobs)})"
                    f" AND subject_id IN ({rows})",
                    (*jobs, account),
                )
            if kind.tagged:
                await s.run(
                    f"DELETE FROM tags WHERE resource_type = ? AND resource_id IN ({rows})",
                    (kind.arn_type, account),
                )
            await s.run(f"DELETE FROM {kind.table} WHERE account = ?", (account,))


JobListener = Callable[[int], None]


class Presence:
    """A job owner's sign of life to the other servers on its database, held from `start()`
    to `stop()`, and its ear for the jobs they add.

    Where servers share a database (PostgreSQL), a job leased to an owner whose presence is
    gone is taken over at once rather than when its lease lapses, and an owner claims jobs
    only while its presence holds. Where a database serves one server (SQLite) there is
    nothing to hold: this base class, which always holds and hears nothing.
    """

    @property
    def held(self) -> bool:
        """Whether the other servers can see this owner is alive (it may claim jobs)."""
        return True

    async def start(self) -> None:
        """Return once held (raises StoreUnavailable if it cannot be)."""

    async def stop(self) -> None: ...

    async def __aenter__(self) -> Presence:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


class Store(ABC):
    """A database: a reader for queries, transactions for changes, listeners for new jobs."""

    def __init__(self) -> None:
        self._job_listeners: list[JobListener] = []
        # Where this server's events go (set once its sinks are registered).
        self.sinks = EventSinks()

    @property
    @abstractmethod
    def reader(self) -> Reads: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Writes]: ...

    @abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Reads]:
        """Reads that all see one commit, whatever commits meanwhile: for exports of a
        catalog that is being served."""

    @abstractmethod
    async def open(self) -> None:
        """Bring the schema up to date and start whatever the store runs in the background."""

    @abstractmethod
    async def close(self) -> None: ...

    async def ping(self) -> None:
        """A trivial query: raises if the database does not answer."""
        await self.reader.jobs.next_due_ms()

    def pool_stats(self) -> dict[str, int]:
        """Connections and waiting callers, where the store pools connections."""
        return {}

    @property
    def single_instance(self) -> bool:
        """True where no other server can share this database (so leases can be reset)."""
        return False

    def presence(self, owner: str, on_jobs: JobListener | None = None) -> Presence:
        """`owner`'s presence (not yet started); `on_jobs(due_ms)` hears of jobs that any
        server adds (0: some may have been added unheard, look now)."""
        return Presence()

    def on_job_added(self, listener: JobListener) -> None:
        """Call `listener(due_ms)` after each commit that added jobs."""
        self._job_listeners.append(listener)

    async def create_version(self, new: NewVersion) -> Created | Refused:
        """Make a version, or say why not.

        The writes are made first, unchecked: they number and write the version only while
        the image exists, may take a version and has none made with the client token, and an
        alias held already fails them whole. Refused, reads say why (or find the answer
        given to the token before), and the writes are made again after them: another call
        may have taken the alias, the token or the last place meanwhile, and the next
        reads see it."""
        renew = None
        for attempt in range(CREATE_ATTEMPTS):
            if attempt:
                checked = await check_create(self.reader, new)
                if isinstance(checked, (Created, Refused)):
                    return checked
                renew = checked
            try:
                created = await self._write_version(new, renew)
            except DuplicateKey:
                continue
            if created is not None:
                return Created(*created)
        return Refused(Why.CONTENDED)

    async def _write_version(
        self, new: NewVersion, renew_before_ms: int | None
    ) -> tuple[str, int] | None:
        """`Writes.create_version` in a transaction of its own; `renew_before_ms`: the
        client token exists but was made before then (it has expired), and is replaced."""
        async with self.transaction() as tx:
            if renew_before_ms is not None:
                await tx.versions.forget_client_token(new.image, new.token.token, renew_before_ms)
            return await tx.create_version(new)

    def _jobs_committed(self, writes: Writes) -> None:
        added, scheduled = writes.jobs.earliest_added_ms, writes.events.scheduled_ms
        self._job_added(scheduled if added is None else min(added, scheduled or added))

    def _job_added(self, due: int | None) -> None:
        if due is not None:
            for listener in self._job_listeners:
                listener(due)


async def check_create(reads: Reads, new: NewVersion) -> Created | Refused | int | None:
    """Why the store would refuse `new`'s writes, as `reads` see the catalog now: a
    refusal, or the earlier answer to its client token; else None, or a time: its expired
    token, made before then, is to be replaced."""
    image = await reads.of(IMAGE).find(*new.image)
    if image is None:
        return Refused(Why.NO_IMAGE)
    renew = None
    earlier = await reads.versions.client_token(image.id, new.token.token)
    expiry = new.token.created_ms - CLIENT_TOKEN_LIFETIME_MS
    if earlier is not None and earlier.created_ms <= expiry:
        renew = expiry
    elif earlier is not None:
        if earlier.request_digest != new.token.request_digest:
            return Refused(Why.TOKEN_REUSED, image)
        return Created(image.name, earlier.version, replayed=True)
    if image.status != new.status:
        return Refused(Why.NOT_READY, image)
    if image.version_count >= new.limit:
        return Refused(Why.AT_LIMIT, image)
    holders = await reads.aliases.holders(image.id, new.aliases)
    for alias in new.aliases:  # the first held, in the request's order
        if alias in holders:
            return Refused(Why.ALIAS_TAKEN, image, alias, holders[alias])
    return renew
