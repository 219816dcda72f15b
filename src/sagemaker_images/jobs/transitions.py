"""What each kind of job does: the second half of an asynchronous call.

A job runs in two steps. `prepare` does any slow work outside a transaction (asking a
registry) and may find there is nothing to do; `apply` then records the outcome inside the
transaction that also removes the job, so a transition is recorded at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sagemaker_images.records import JobRecord
from sagemaker_images.registry.resolver import Resolution, Resolver
from sagemaker_images.states import ImageStatus, JobKind, StudioStatus, VersionStatus
from sagemaker_images.store import Reads, Writes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Transitions:
    resolver: Resolver

    async def prepare(self, reads: Reads, job: JobRecord) -> Any:
        if job.fail_reason is not None:
            return None  # completed by hand, as a failure: nothing to ask anyone
        if job.kind == JobKind.VERSION_CREATE:
            assert job.version is not None
            version = await reads.versions.find(job.subject_id, job.version)
            if version is None or version.status != VersionStatus.CREATING:
                return None
            return await self.resolver.resolve(version.base_image)
        return None

    async def apply(self, tx: Writes, job: JobRecord, prepared: Any, now_ms: int) -> None:
        if job.fail_reason is not None:
            await self.give_up(tx, job, job.fail_reason, now_ms)
            return
        step = _APPLY.get(job.kind)
        if step is None:
            raise ValueError(f"unknown job kind {job.kind!r}")
        await step(tx, job, prepared, now_ms)

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


async def _version_ready(tx: Writes, job: JobRecord, outcome: Any, now_ms: int) -> None:
    assert job.version is not None
    version = await tx.versions.find(job.subject_id, job.version)
    if version is None or version.status != VersionStatus.CREATING:
        return
    if not isinstance(outcome, Resolution):
        return  # the version was not CREATING when prepared; it has moved on since
    name = await _image_name(tx, job)
    if outcome.container_image is not None:
        await tx.versions.update(
            job.subject_id,
            job.version,
            status=VersionStatus.CREATED,
            container_image=outcome.container_image,
            modified_ms=now_ms,
        )
        log.info("image version %s: CREATED, ContainerImage %s", name, outcome.container_image)
    else:
        await tx.versions.update(
            job.subject_id,
            job.version,
            status=VersionStatus.CREATE_FAILED,
            failure_reason=outcome.failure_reason,
            modified_ms=now_ms,
        )
        log.info("image version %s: CREATE_FAILED: %s", name, outcome.failure_reason)


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
    return f"{image.name}/{job.version} ({image.account}, {image.region})"


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
    JobKind.VERSION_CREATE: _version_ready,
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
