"""What each kind of job does: the second half of an asynchronous call.

A job runs in two steps. `prepare` does any slow work outside a transaction (asking a
registry) and may find there is nothing to do; `apply` then records the outcome inside the
transaction that also removes the job, so a transition is recorded at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_images.records import JobRecord, VersionRecord
from sagemaker_images.registry.resolver import Resolution, Resolver
from sagemaker_images.states import ImageStatus, JobKind, StudioStatus, VersionStatus
from sagemaker_images.store import Reads, Writes

log = logging.getLogger(__name__)

# What `Transitions.preload` read for a batch of jobs: versions by (image id, number).
Loaded = Mapping[tuple[int, int], VersionRecord]


@dataclass(frozen=True, slots=True)
class Transitions:
    resolver: Resolver

    async def preload(self, reads: Reads, jobs: Sequence[JobRecord]) -> Loaded:
        """What `prepare` reads for a batch of jobs, read at once: the versions that
        version jobs create."""
        keys = [
            (job.subject_id, job.version)
            for job in jobs
            if job.kind == JobKind.VERSION_CREATE and job.version is not None
        ]
        return {(v.image_id, v.version): v for v in await reads.versions.find_many(keys)}

    async def prepare(self, reads: Reads, job: JobRecord, loaded: Loaded | None = None) -> Any:
        """The slow part of a job, outside any transaction; `loaded`: what `preload` read
        for its batch, or None to read it here."""
        if job.fail_reason is not None:
            return None  # completed by hand, as a failure: nothing to ask anyone
        if job.kind == JobKind.VERSION_CREATE:
            assert job.version is not None
            if loaded is None:
                version = await reads.versions.find(job.subject_id, job.version)
            else:
                version = loaded.get((job.subject_id, job.version))
            if version is None or version.status != VersionStatus.CREATING:
                return None
            return await self.resolver.resolve(version.base_image)
        return None

    async def apply(self, tx: Writes, job: JobRecord, prepared: Any, now_ms: int) -> None:
        await self.apply_all(tx, [(job, prepared)], now_ms)

    async def apply_all(
        self, tx: Writes, prepared: Sequence[tuple[JobRecord, Any]], now_ms: int
    ) -> None:
        """Record the outcomes of prepared jobs; the versions they created in one
        statement."""
        created = []
        for job, outcome in prepared:
            if job.fail_reason is not None:
                await self.give_up(tx, job, job.fail_reason, now_ms)
            elif job.kind == JobKind.VERSION_CREATE:
                # Not a Resolution: the version was not CREATING when prepared, and has
                # moved on since.
                if isinstance(outcome, Resolution):
                    created.append((job, outcome))
            elif job.kind in _APPLY:
                await _APPLY[job.kind](tx, job, outcome, now_ms)
            else:
                raise ValueError(f"unknown job kind {job.kind!r}")
        if created:
            await _versions_ready(tx, created, now_ms)

    async def give_up(self, tx: Writes, job: JobRecord, reason: str, now_ms: int) -> None:
        """Record that a transition failed for good, in AWS's *_FAILED states."""
        reason = reason[:1024]
        family, _, step = job.kind.partition(".")
        if family in _STUDIO:
            rows = _studio_rows(tx, family)
            found = await rows.by_row(job.subject_id)
            if found is not None:
                await rows.update(
                    job.subject_id,
                    status=_STUDIO_FAILED[step],
                    failure_reason=reason,
                    modified_ms=now_ms,
                )
            return
        if job.kind == JobKind.VERSION_CREATE and job.version is not None:
            version = await tx.versions.find(job.subject_id, job.version)
            if version is None or version.status != VersionStatus.CREATING:
                return  # it has moved on (its image is being deleted): nothing to fail
        if job.version is not None:
            failed = (
                VersionStatus.CREATE_FAILED
                if job.kind == JobKind.VERSION_CREATE
                else VersionStatus.DELETE_FAILED
            )
            await tx.versions.update(
                job.subject_id,
                job.version,
                status=failed,
                failure_reason=reason,
                modified_ms=now_ms,
            )
            return
        failed_image = {
            JobKind.IMAGE_CREATE: ImageStatus.CREATE_FAILED,
            JobKind.IMAGE_UPDATE: ImageStatus.UPDATE_FAILED,
            JobKind.IMAGE_DELETE: ImageStatus.DELETE_FAILED,
        }[JobKind(job.kind)]
        await tx.images.update(
            job.subject_id, status=failed_image, failure_reason=reason, modified_ms=now_ms
        )


async def _image_ready(tx: Writes, job: JobRecord, _: Any, now_ms: int) -> None:
    image = await tx.images.by_id(job.subject_id, lock=True)
    if image is not None and image.status in {ImageStatus.CREATING, ImageStatus.UPDATING}:
        await tx.images.update(image.id, status=ImageStatus.CREATED, modified_ms=now_ms)
        log.info("image %s (%s, %s): CREATED", image.name, image.account, image.region)


async def _image_gone(tx: Writes, job: JobRecord, _: Any, now_ms: int) -> None:
    image = await tx.images.by_id(job.subject_id)
    await tx.images.delete(job.subject_id)
    if image is not None:
        log.info("image %s (%s, %s): deleted", image.name, image.account, image.region)


async def _versions_ready(
    tx: Writes, created: Sequence[tuple[JobRecord, Resolution]], now_ms: int
) -> None:
    """Each version CREATED with its container image, or CREATE_FAILED with the reason;
    only while still CREATING (its image may be being deleted meanwhile)."""
    resolved: dict[tuple[int, int], Resolution] = {}
    for job, resolution in created:
        assert job.version is not None
        resolved[(job.subject_id, job.version)] = resolution
    ended = await tx.versions.finish_creating(
        [(*key, r.container_image, r.failure_reason) for key, r in resolved.items()], now_ms
    )
    for image_id, number, name, account, region in ended:
        resolution = resolved[(image_id, number)]
        if resolution.container_image is not None:
            said = f"CREATED, ContainerImage {resolution.container_image}"
        else:
            said = f"CREATE_FAILED: {resolution.failure_reason}"
        log.info("image version %s: %s", _version_label(name, number, account, region), said)


async def _version_gone(tx: Writes, job: JobRecord, _: Any, now_ms: int) -> None:
    assert job.version is not None
    name = await _image_name(tx, job)
    await tx.versions.delete(job.subject_id, job.version)
    log.info("image version %s: deleted", name)


async def _image_name(tx: Writes, job: JobRecord) -> str:
    """`name/version (account, region)` of a version job, for the log."""
    image = await tx.images.by_id(job.subject_id)
    if image is None:
        return f"{job.subject_id}/{job.version}"
    return _version_label(image.name, job.version, image.account, image.region)


def _version_label(name: str, number: int | None, account: str, region: str) -> str:
    return f"{name}/{number} ({account}, {region})"


# Studio resources: the family of a job kind, the noun its log lines use.
_STUDIO = {"domain": "domain", "user_profile": "user profile", "space": "space"}
_STUDIO_FAILED = {
    "create": StudioStatus.FAILED,
    "update": StudioStatus.UPDATE_FAILED,
    "delete": StudioStatus.DELETE_FAILED,
}


def _studio_rows(tx: Writes, family: str) -> Any:
    return {"domain": tx.domains, "user_profile": tx.user_profiles, "space": tx.spaces}[family]


async def _studio_ready(tx: Writes, job: JobRecord, _: Any, now_ms: int) -> None:
    family = job.kind.partition(".")[0]
    rows = _studio_rows(tx, family)
    found = await rows.by_row(job.subject_id)
    if found is not None and found.status in {StudioStatus.PENDING, StudioStatus.UPDATING}:
        await rows.update(found.id, status=StudioStatus.IN_SERVICE, modified_ms=now_ms)
        log.info("%s %s: InService", _STUDIO[family], _studio_name(found))


async def _studio_gone(tx: Writes, job: JobRecord, _: Any, now_ms: int) -> None:
    family = job.kind.partition(".")[0]
    rows = _studio_rows(tx, family)
    found = await rows.by_row(job.subject_id)
    if found is not None:
        await rows.delete(found.id)
        log.info("%s %s: deleted", _STUDIO[family], _studio_name(found))


def _studio_name(found: Any) -> str:
    """`d-… (account, region)` or `d-…/name (account, region)`, for the log."""
    where = f"({found.account}, {found.region})"
    if hasattr(found, "last_uid"):
        return f"{found.domain_id} {found.name} {where}"
    return f"{found.domain_id}/{found.name} {where}"


_APPLY: dict[str, Callable[[Writes, JobRecord, Any, int], Awaitable[None]]] = {
    JobKind.IMAGE_CREATE: _image_ready,
    JobKind.IMAGE_UPDATE: _image_ready,
    JobKind.IMAGE_DELETE: _image_gone,
    JobKind.VERSION_DELETE: _version_gone,
    JobKind.DOMAIN_CREATE: _studio_ready,
    JobKind.DOMAIN_UPDATE: _studio_ready,
    JobKind.DOMAIN_DELETE: _studio_gone,
    JobKind.USER_PROFILE_CREATE: _studio_ready,
    JobKind.USER_PROFILE_UPDATE: _studio_ready,
    JobKind.USER_PROFILE_DELETE: _studio_gone,
    JobKind.SPACE_CREATE: _studio_ready,
    JobKind.SPACE_UPDATE: _studio_ready,
    JobKind.SPACE_DELETE: _studio_gone,
}
