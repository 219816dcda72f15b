"""The store's face: a reader, transactions, and listeners for new jobs.

`Reads` and `Writes` group the queries by resource (`reads.images.find(...)`,
`tx.versions.insert(...)`); each resource's module holds its statements, written once in
portable SQL over the primitives a dialect provides (`sql.Queries`, `sql.Statements`).
`Reads` outside a transaction see the last commit; `Writes` exist only inside
`Store.transaction()` and are committed when its block ends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

from sagemaker_images.records import (
    APP_IMAGE_CONFIG_TAGS,
    DOMAIN_TAGS,
    IMAGE_TAGS,
    SPACE_TAGS,
    USER_PROFILE_TAGS,
)
from sagemaker_images.states import JOB_SUBJECTS
from sagemaker_images.store.aliases import AliasReads, AliasWrites
from sagemaker_images.store.app_image_configs import AppImageConfigReads, AppImageConfigWrites
from sagemaker_images.store.browse import BrowseReads
from sagemaker_images.store.domains import DomainReads, DomainWrites
from sagemaker_images.store.images import DEPENDENTS as IMAGE_DEPENDENTS
from sagemaker_images.store.images import ImageReads, ImageWrites
from sagemaker_images.store.jobs import JobReads, JobWrites
from sagemaker_images.store.spaces import SpaceReads, SpaceWrites
from sagemaker_images.store.sql import Queries, Statements
from sagemaker_images.store.tags import TagReads, TagWrites
from sagemaker_images.store.user_profiles import UserProfileReads, UserProfileWrites
from sagemaker_images.store.versions import NewVersion, VersionReads, VersionWrites


class Reads:
    def __init__(self, q: Queries) -> None:
        self.images = ImageReads(q)
        self.versions = VersionReads(q)
        self.aliases = AliasReads(q)
        self.app_image_configs = AppImageConfigReads(q)
        self.tags = TagReads(q)
        self.jobs = JobReads(q)
        self.domains = DomainReads(q)
        self.user_profiles = UserProfileReads(q)
        self.spaces = SpaceReads(q)
        self.browse = BrowseReads(q)


class Writes(Reads):
    images: ImageWrites
    versions: VersionWrites
    aliases: AliasWrites
    app_image_configs: AppImageConfigWrites
    tags: TagWrites
    jobs: JobWrites
    domains: DomainWrites
    user_profiles: UserProfileWrites
    spaces: SpaceWrites

    def __init__(self, s: Statements) -> None:
        # Not super().__init__(): each resource's writes include its reads.
        self._s = s
        self.images = ImageWrites(s)
        self.versions = VersionWrites(s)
        self.aliases = AliasWrites(s)
        self.app_image_configs = AppImageConfigWrites(s)
        self.tags = TagWrites(s)
        self.jobs = JobWrites(s)
        self.domains = DomainWrites(s)
        self.user_profiles = UserProfileWrites(s)
        self.spaces = SpaceWrites(s)

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
        return name, number

    async def reset(self, account: str | None = None) -> None:
        """Delete every resource (of one account, if given), with its versions, aliases,
        client tokens, tags and pending jobs."""
        s = self._s
        if account is None:
            for table in _EVERY_TABLE:
                await s.run(f"DELETE FROM {table}")
            return
        images = "SELECT id FROM images WHERE account = ?"
        for table in IMAGE_DEPENDENTS:
            await s.run(f"DELETE FROM {table} WHERE image_id IN ({images})", (account,))
        for table, kinds in JOB_SUBJECTS.items():
            await s.run(
                f"DELETE FROM jobs WHERE kind IN ({', '.join('?' for _ in kinds)})"
                f" AND subject_id IN (SELECT id FROM {table} WHERE account = ?)",
                (*kinds, account),
            )
        for kind, table in _TAGGED:
            await s.run(
                "DELETE FROM tags WHERE resource_type = ? AND resource_id IN"
                f" (SELECT id FROM {table} WHERE account = ?)",
                (kind, account),
            )
        for _, table in _TAGGED:
            await s.run(f"DELETE FROM {table} WHERE account = ?", (account,))


# Each taggable resource's kind of tag and table.
_TAGGED = (
    (IMAGE_TAGS, "images"),
    (APP_IMAGE_CONFIG_TAGS, "app_image_configs"),
    (DOMAIN_TAGS, "domains"),
    (USER_PROFILE_TAGS, "user_profiles"),
    (SPACE_TAGS, "spaces"),
)
# Every table of the catalog, dependents first.
_EVERY_TABLE = (*IMAGE_DEPENDENTS, "jobs", "tags", *(table for _, table in _TAGGED))

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

    async def create_version(
        self, new: NewVersion, renew_before_ms: int | None = None
    ) -> tuple[str, int] | None:
        """`Writes.create_version` in a transaction of its own; `renew_before_ms`: the
        client token exists but was made before then (it has expired), and is replaced."""
        async with self.transaction() as tx:
            if renew_before_ms is not None:
                await tx.versions.forget_client_token(new.image, new.token.token, renew_before_ms)
            return await tx.create_version(new)

    def _jobs_committed(self, writes: Writes) -> None:
        self._job_added(writes.jobs.earliest_added_ms)

    def _job_added(self, due: int | None) -> None:
        if due is not None:
            for listener in self._job_listeners:
                listener(due)
