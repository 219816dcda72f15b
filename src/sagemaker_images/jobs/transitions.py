"""What each kind of job does: the second half of an asynchronous call.

A job runs in two steps. `prepare` does any slow work outside a transaction (asking a
registry) and may find there is nothing to do; `apply` then records the outcome inside the
transaction that also removes the job, so a transition is recorded at most once.

Every kind's transitions are declared with the kind (`resources/kinds.py`): a job ends
its resource's busy status in the status its step declares, or removes the resource, or
on failure leaves the step's failed status. Two do more. A version's creation asks the
registry for the digest its BaseImage names, when the server pins versions. An app's
launch resolves its ResourceSpec against the catalog as it is then (catalog/apps.py) and
ends InService or Failed (with `--preflight on`, also Failed when the preflight of the
image version it launches finds an error: that check reads the registry, so it runs in
`prepare`); an app that ends Deleted or Failed is purged once its retention lapses, by a
timed job.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_images.catalog.apps import launch
from sagemaker_images.doctor.preflight import APP_TYPES, Preflight, Request
from sagemaker_images.doctor.report import ERROR, ordered
from sagemaker_images.errors import ServiceError
from sagemaker_images.events.delivery import Deliveries
from sagemaker_images.registry.resolver import Resolution, Resolver
from sagemaker_images.resources.kinds import (
    APP,
    IMAGE,
    JOB_KINDS,
    VERSION,
    ResourceKind,
    Step,
)
from sagemaker_images.resources.records import ImageRecord, JobRecord, VersionRecord
from sagemaker_images.resources.states import AppStatus, VersionStatus
from sagemaker_images.store import Reads, Store, Writes, image_ref
from sagemaker_images.store.events import DELIVER, GONE, ImageRef

log = logging.getLogger(__name__)

# What `Transitions.preload` read for a batch of jobs: versions by (image id, number).
Loaded = Mapping[tuple[int, int], VersionRecord]
CREATE_VERSION = VERSION.job("create")
CREATE_APP = APP.job("create")
PURGE_APP = APP.job("purge")
# An app's record in these is kept for its retention, then purged.
_RETIRED = (AppStatus.DELETED, AppStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Refusal:
    """What an app's preflight found that stops its launch (a FailureReason)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Transitions:
    resolver: Resolver
    # How long a Deleted or Failed app's record is kept.
    app_retention_ms: int = 86_400_000
    # With `--preflight on`: what checks the image version an app launches.
    preflight: Preflight | None = None
    # The delivery jobs of the server's event sinks (events/delivery.py).
    deliveries: Deliveries | None = None

    async def preload(self, reads: Reads, jobs: Sequence[JobRecord]) -> Loaded:
        """What `prepare` reads for a batch of jobs, read at once: the versions that
        version jobs create."""
        keys = [
            (job.subject_id, job.version)
            for job in jobs
            if job.kind == CREATE_VERSION and job.version is not None
        ]
        return {(v.image_id, v.version): v for v in await reads.versions.find_many(keys)}

    async def prepare(self, reads: Reads, job: JobRecord, loaded: Loaded | None = None) -> Any:
        """The slow part of a job, outside any transaction; `loaded`: what `preload` read
        for its batch, or None to read it here."""
        if job.kind == DELIVER:
            return await self._deliveries().prepare(reads, job)
        if job.fail_reason is not None:
            return None  # completed by hand, as a failure: nothing to ask anyone
        if job.kind == CREATE_VERSION:
            assert job.version is not None
            if loaded is None:
                version = await reads.versions.find(job.subject_id, job.version)
            else:
                version = loaded.get((job.subject_id, job.version))
            if version is None or version.status != VersionStatus.CREATING:
                return None
            return await self.resolver.resolve(version.base_image)
        if job.kind == CREATE_APP and self.preflight is not None:
            return await self._preflight(reads, job, self.preflight)
        return None

    async def _preflight(self, reads: Reads, job: JobRecord, preflight: Preflight) -> Any:
        """The first error the preflight finds in the version an app would launch, if any."""
        app = await reads.of(APP).by_row(job.subject_id)
        if app is None or app.status != AppStatus.PENDING:
            return None
        launched = await launch(reads, app)
        if launched.failure is not None or launched.image is None:
            return None  # SageMaker's own image, or a launch that fails anyway
        known = app.app_type in APP_TYPES
        request = Request(
            app.account,
            app.region,
            launched.image,
            launched.version,
            app_image_config=launched.app_image_config if known else None,
            app_type=app.app_type if known else None,
        )
        try:
            report = await preflight.report(reads, request)
        except ServiceError:
            return None  # gone meanwhile: the launch itself says so
        errors = [f for f in ordered(report.every_finding()) if f.severity == ERROR]
        return Refusal(errors[0].message) if errors else None

    async def apply(self, tx: Writes, job: JobRecord, prepared: Any, now_ms: int) -> None:
        await self.apply_all(tx, [(job, prepared)], now_ms)

    async def apply_all(
        self, tx: Writes, prepared: Sequence[tuple[JobRecord, Any]], now_ms: int
    ) -> None:
        """Record the outcomes of prepared jobs; the versions they created in one
        statement."""
        created = []
        for job, outcome in prepared:
            if job.kind == DELIVER:
                await self._deliveries().apply(tx, job, outcome, now_ms)
                continue
            kind = _kind_of(job)
            if job.fail_reason is not None:
                await self.give_up(tx, job, job.fail_reason, now_ms)
            elif job.kind == CREATE_VERSION:
                # Not a Resolution: the version was not CREATING when prepared, and has
                # moved on since.
                if isinstance(outcome, Resolution):
                    created.append((job, outcome))
            elif kind is VERSION:
                await _version_gone(tx, job, now_ms)
            elif job.kind == CREATE_APP:
                refusal = outcome.reason if isinstance(outcome, Refusal) else None
                await self._launched(tx, job, now_ms, refusal)
            elif kind is APP and job.kind != PURGE_APP:
                await _ended(tx, kind, job, _step(kind, job), now_ms)
                await self._retire(tx, job.subject_id, now_ms)
            else:
                await _ended(tx, kind, job, _step(kind, job), now_ms)
        if created:
            await _versions_ready(tx, created, now_ms)

    async def give_up(self, tx: Writes, job: JobRecord, reason: str, now_ms: int) -> None:
        """Record that a transition failed for good, in its step's failed status (a
        delivery job never does: it is asked for again later)."""
        if job.kind == DELIVER:
            await self._deliveries().failed(tx, job, now_ms)
            return
        reason = reason[:1024]
        kind = _kind_of(job)
        step = _step(kind, job)
        if kind is VERSION:
            assert job.version is not None
            version = await tx.versions.find(job.subject_id, job.version)
            if job.kind == CREATE_VERSION and (
                version is None or version.status != VersionStatus.CREATING
            ):
                return  # it has moved on (its image is being deleted): nothing to fail
            await tx.versions.update(
                job.subject_id,
                job.version,
                status=step.failed,
                failure_reason=reason,
                modified_ms=now_ms,
            )
            image = await tx.of(IMAGE).by_row(job.subject_id)
            if version is not None and image is not None:
                entered = [(job.version, step.failed, reason)]
                await tx.events.versions(image_ref(image), entered, now_ms)
            return
        rows = tx.of(kind)
        found = await rows.by_row(job.subject_id)
        if found is not None:
            await rows.update(
                job.subject_id, status=step.failed, failure_reason=reason, modified_ms=now_ms
            )
            if kind is APP:
                await self._retire(tx, job.subject_id, now_ms)
            if kind is IMAGE:
                await tx.events.image(found, step.failed, now_ms, reason)

    async def sweep(self, store: Store, now_ms: int) -> None:
        """Jobs for event sinks whose events wait without one (events/delivery.py)."""
        if self.deliveries is not None:
            await self.deliveries.sweep(store, now_ms)

    def _deliveries(self) -> Deliveries:
        if self.deliveries is None:
            raise ValueError("an event delivery job, but this server has no event sinks")
        return self.deliveries

    async def _launched(
        self, tx: Writes, job: JobRecord, now_ms: int, refusal: str | None = None
    ) -> None:
        """A Pending app InService, or Failed with the reason its launch (or its preflight,
        `refusal`) gives."""
        apps = tx.of(APP)
        app = await apps.by_row(job.subject_id, lock=True)
        if app is None or app.status != AppStatus.PENDING:
            return
        launched = await launch(tx, app)
        if launched.failure is None and refusal is not None:
            launched = dataclasses.replace(launched, failure=refusal)
        if launched.failure is None:
            await apps.update(
                app.id,
                status=AppStatus.IN_SERVICE,
                health_checked_ms=now_ms,
                last_active_ms=now_ms,
                runs_image=launched.image,
                runs_version=launched.version,
                modified_ms=now_ms,
            )
            log.info("app %s: InService", APP.arn_of(app))
            return
        reason = launched.failure[:1024]
        await apps.update(
            app.id, status=AppStatus.FAILED, failure_reason=reason, modified_ms=now_ms
        )
        log.info("app %s: Failed: %s", APP.arn_of(app), reason)
        await self._retire(tx, app.id, now_ms)

    async def _retire(self, tx: Writes, app_id: int, now_ms: int) -> None:
        """A Deleted or Failed app's record goes once its retention lapses."""
        app = await tx.of(APP).by_row(app_id)
        if app is not None and app.status in _RETIRED:
            await tx.jobs.add(PURGE_APP, app_id, None, now_ms + self.app_retention_ms)


def _kind_of(job: JobRecord) -> ResourceKind[Any]:
    kind = JOB_KINDS.get(job.kind)
    if kind is None:
        raise ValueError(f"unknown job kind {job.kind!r}")
    return kind


def _step(kind: ResourceKind[Any], job: JobRecord) -> Step:
    assert kind.transitions is not None
    return kind.transitions.step_of(job.kind)


async def _ended(
    tx: Writes, kind: ResourceKind[Any], job: JobRecord, step: Step, now_ms: int
) -> None:
    """A resource's step done: in its status (from any busy status that ends in it), or
    removed, with what hangs off it."""
    rows = tx.of(kind)
    found = await rows.by_row(job.subject_id, lock=True)
    if step.done is None:
        if found is not None and kind is IMAGE:
            await _image_gone(tx, found, now_ms)
        await rows.delete(job.subject_id)
        if found is not None:
            log.info("%s %s: deleted", kind.noun, _label(kind, found))
        return
    assert kind.transitions is not None
    ending = {s.busy for s in kind.transitions.steps.values() if s.done == step.done}
    if found is not None and found.status in ending:
        await rows.update(found.id, status=step.done, modified_ms=now_ms)
        log.info("%s %s: %s", kind.noun, _label(kind, found), step.done)
        if kind is IMAGE:
            await tx.events.image(found, step.done, now_ms)


async def _image_gone(tx: Writes, image: ImageRecord, now_ms: int) -> None:
    """The events of an image about to be removed, and of the versions removed with it:
    DELETED, with the tags it had."""
    versions = [v.version for v in await tx.versions.of_image(image.id)]
    entered = [(number, GONE, None) for number in versions]
    await tx.events.versions(image_ref(image), entered, now_ms)
    await tx.events.image(image, GONE, now_ms)


def _label(kind: ResourceKind[Any], found: Any) -> str:
    """`name (account, region)`, `d-…/name (account, region)`, for the log."""
    shown = [
        found.name if column == "name_key" else str(getattr(found, column)) for column in kind.key
    ]
    return f"{'/'.join(shown)} ({found.account}, {found.region})"


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
    entered: dict[ImageRef, list[tuple[int, str, str | None]]] = {}
    for image_id, number, name, account, region in ended:
        resolution = resolved[(image_id, number)]
        if resolution.container_image is not None:
            said = f"CREATED, ContainerImage {resolution.container_image}"
            status = VersionStatus.CREATED
        else:
            said = f"CREATE_FAILED: {resolution.failure_reason}"
            status = VersionStatus.CREATE_FAILED
        log.info("image version %s: %s", _version_label(name, number, account, region), said)
        image = (image_id, account, region, name)
        entered.setdefault(image, []).append((number, status, resolution.failure_reason))
    for image, versions in entered.items():
        await tx.events.versions(image, versions, now_ms)


async def _version_gone(tx: Writes, job: JobRecord, now_ms: int) -> None:
    assert job.version is not None
    image = await tx.of(IMAGE).by_row(job.subject_id)
    found = await tx.versions.find(job.subject_id, job.version)
    await tx.versions.delete(job.subject_id, job.version)
    if image is None:
        label = f"{job.subject_id}/{job.version}"
    else:
        label = _version_label(image.name, job.version, image.account, image.region)
        if found is not None:
            await tx.events.versions(image_ref(image), [(job.version, GONE, None)], now_ms)
    log.info("image version %s: deleted", label)


def _version_label(name: str, number: int | None, account: str, region: str) -> str:
    return f"{name}/{number} ({account}, {region})"
