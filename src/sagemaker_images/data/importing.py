"""Write an archive's resources into a catalog, in one transaction: all of it or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sagemaker_images.data.archive import ONE_LINE, Catalog, Entry, ImageEntry, VersionEntry
from sagemaker_images.resources.kinds import IMAGE, VERSION, ResourceKind
from sagemaker_images.resources.records import ImageRecord, columns_of
from sagemaker_images.resources.states import ImageStatus
from sagemaker_images.store import Store, Writes


class Merge(StrEnum):
    """What to do with a resource the catalog already holds (same account, region, name)."""

    SKIP = "skip"  # keep the catalog's, with its versions and tags
    OVERWRITE = "overwrite"  # replace it, versions and tags included, by the file's


class Conflicts(Exception):
    """The catalog already holds resources of the file, and no --merge says what to do."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"{len(names)} resources of the file exist already")
        self.names = names


@dataclass
class Imported:
    images: int = 0
    versions: int = 0
    # One-line resources added, by kind (a key of archive.ONE_LINE).
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ONE_LINE, 0))
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    jobs: int = 0


def job_ending(kind: ResourceKind[Any], status: str) -> str | None:
    """The kind of job that ends a resource's transitional `status`, as the server would
    have added it; None for a status that stays."""
    step = kind.transitions.in_progress(status) if kind.transitions else None
    return None if step is None else kind.job(step)


async def import_catalog(store: Store, catalog: Catalog, merge: Merge | None) -> Imported:
    """Raises Conflicts (and writes nothing) if a resource exists and `merge` is None."""
    done = Imported()
    now = int(time.time() * 1000)
    async with store.transaction() as tx:
        # The row of the catalog each entry of the file meets, by the entry's id().
        existing: dict[int, int] = {}
        for image in catalog.images:
            r = image.record
            found = await tx.of(IMAGE).find(r.account, r.region, r.name_key, lock=True)
            if found is not None:
                existing[id(image)] = found.id
        for kind, entry in catalog.every_entry():
            row = await held_row(tx, kind, entry.record)
            if row is not None:
                existing[id(entry)] = row
        if merge is None and existing:
            raise Conflicts(
                [_name(None, i) for i in catalog.images if id(i) in existing]
                + [_name(k, e) for k, e in catalog.every_entry() if id(e) in existing]
            )
        for image in catalog.images:
            old = existing.get(id(image))
            if old is not None:
                if merge is Merge.SKIP:
                    done.skipped.append(_name(None, image))
                    continue
                await tx.of(IMAGE).delete(old)
                done.replaced.append(_name(None, image))
            await add_image(tx, image, now, done)
        for kind, entry in catalog.every_entry():
            old = existing.get(id(entry))
            if old is not None:
                if merge is Merge.SKIP:
                    done.skipped.append(_name(kind, entry))
                    continue
                await tx.of(kind).delete(old)
                done.replaced.append(_name(kind, entry))
            await add_entry(tx, kind, entry, now, done)
    return done


async def held_row(tx: Writes, kind: ResourceKind[Any], record: Any) -> int | None:
    """The row of the catalog that `record` would collide with, by key or by name."""
    rows = tx.of(kind)
    r = record
    found = await rows.find(r.account, r.region, *(getattr(r, c) for c in kind.key))
    if found is None and "name_key" not in kind.key:  # unique by name too (domains)
        found = await rows.with_name(r.account, r.region, r.name_key)
    return None if found is None else int(found.id)


async def add_entry(
    tx: Writes, kind: ResourceKind[Any], entry: Entry, now: int, done: Imported
) -> int:
    """Insert a one-line resource with its tags, and the job of its transition in progress."""
    row = await tx.of(kind).insert(entry.record)
    if kind.tagged:
        await tx.tags.put(kind.arn_type, row, entry.tags.items())
    job = job_ending(kind, getattr(entry.record, "status", ""))
    if job is not None:
        await tx.jobs.add(job, row, None, entry.due_ms or now)
        done.jobs += 1
    done.added[kind.name] += 1
    return row


async def add_image(tx: Writes, image: ImageEntry, now: int, done: Imported) -> None:
    """Insert an image the catalog does not hold, with its versions, aliases and tags."""
    record = replace(image.record, version_count=len(image.versions))
    image_id = await tx.of(IMAGE).insert(record)
    await tx.tags.put(IMAGE.arn_type, image_id, image.tags.items())
    await _add_versions(tx, image_id, record, image.versions, now, done)
    await _add_image_job(tx, image_id, image, now, done)
    done.images += 1


async def add_missing(
    tx: Writes, existing: ImageRecord, image: ImageEntry, now: int, done: Imported
) -> None:
    """Bring an image the catalog holds up to `image`: its members and tags from `image`,
    the versions and aliases it lacks added; versions it has already are left as they are."""
    held = {v.version for v in await tx.versions.of_image(existing.id)}
    missing = [v for v in image.versions if v.record.version not in held]
    record = image.record
    await tx.of(IMAGE).update(
        existing.id,
        **{c.name: getattr(record, c.name) for c in _IMAGE_MEMBERS},
        last_version=max(existing.last_version, record.last_version),
        version_count=len(held) + len(missing),
    )
    await tx.tags.put(IMAGE.arn_type, existing.id, image.tags.items())
    await _add_versions(tx, existing.id, record, missing, now, done)
    holders = await tx.aliases.holders(
        existing.id, [alias for v in image.versions for alias in v.aliases]
    )
    for entry in image.versions:
        if entry.record.version in held:
            free = [alias for alias in entry.aliases if alias not in holders]
            await tx.aliases.add(existing.id, entry.record.version, free)
    if existing.status != record.status:
        await _add_image_job(tx, existing.id, image, now, done)


# An image's members that a copy brings up to date (its name is how it was found).
_IMAGE_MEMBERS = tuple(
    c for c in columns_of(ImageRecord) if c.member is not None and c.name != "name"
)


async def _add_versions(
    tx: Writes,
    image_id: int,
    image: ImageRecord,
    versions: list[VersionEntry],
    now: int,
    done: Imported,
) -> None:
    deleting = image.status == ImageStatus.DELETING
    for entry in versions:
        version = replace(entry.record, image_id=image_id)
        await tx.versions.insert(version)
        await tx.aliases.add(image_id, version.version, entry.aliases)
        job = None if deleting else job_ending(VERSION, version.status)
        if job is not None:
            await tx.jobs.add(job, image_id, version.version, entry.due_ms or now)
            done.jobs += 1
    done.versions += len(versions)


async def _add_image_job(
    tx: Writes, image_id: int, image: ImageEntry, now: int, done: Imported
) -> None:
    """The job that ends a transitional status, as the server would have added it: due
    when it was in the catalog the image comes from, if known."""
    job = job_ending(IMAGE, image.record.status)
    if job is not None:
        await tx.jobs.add(job, image_id, None, image.due_ms or now)
        done.jobs += 1


def _name(kind: ResourceKind[Any] | None, entry: ImageEntry | Entry) -> str:
    r = entry.record
    label = "image" if kind is None else kind.name.replace("_", "-")
    owner = kind.parent.key if kind is not None and kind.parent is not None else ()
    name = "/".join([*(str(getattr(r, c)) for c in owner), r.name])
    return f"{label} {name} (account {r.account}, {r.region})"
