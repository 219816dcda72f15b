"""Write an archive's resources into a catalog, in one transaction: all of it or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sagemaker_images.data.archive import Catalog, ConfigEntry, ImageEntry, VersionEntry
from sagemaker_images.records import APP_IMAGE_CONFIG_TAGS, IMAGE_TAGS, ImageRecord, columns_of
from sagemaker_images.states import ImageStatus, JobKind, VersionStatus
from sagemaker_images.store.base import Store, Writes


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
    app_image_configs: int = 0
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    jobs: int = 0


# A resource in a transitional status gets the job that ends it, as the server would have.
_IMAGE_JOBS = {
    ImageStatus.CREATING: JobKind.IMAGE_CREATE,
    ImageStatus.UPDATING: JobKind.IMAGE_UPDATE,
}
_VERSION_JOBS = {
    VersionStatus.CREATING: JobKind.VERSION_CREATE,
    VersionStatus.DELETING: JobKind.VERSION_DELETE,
}


async def import_catalog(store: Store, catalog: Catalog, merge: Merge | None) -> Imported:
    """Raises Conflicts (and writes nothing) if a resource exists and `merge` is None."""
    done = Imported()
    now = int(time.time() * 1000)
    async with store.transaction() as tx:
        existing_images = {}
        for image in catalog.images:
            r = image.record
            found = await tx.images.find(r.account, r.region, r.name_key, lock=True)
            if found is not None:
                existing_images[id(image)] = found.id
        existing_configs = {}
        for config in catalog.configs:
            c = config.record
            found_config = await tx.app_image_configs.find(c.account, c.region, c.name_key)
            if found_config is not None:
                existing_configs[id(config)] = found_config.id
        if merge is None and (existing_images or existing_configs):
            raise Conflicts(
                [_name(i) for i in catalog.images if id(i) in existing_images]
                + [_name(c) for c in catalog.configs if id(c) in existing_configs]
            )
        for image in catalog.images:
            old = existing_images.get(id(image))
            if old is not None:
                if merge is Merge.SKIP:
                    done.skipped.append(_name(image))
                    continue
                await tx.images.delete(old)
                done.replaced.append(_name(image))
            await add_image(tx, image, now, done)
        for config in catalog.configs:
            old = existing_configs.get(id(config))
            if old is not None:
                if merge is Merge.SKIP:
                    done.skipped.append(_name(config))
                    continue
                await tx.app_image_configs.delete(old)
                done.replaced.append(_name(config))
            config_id = await tx.app_image_configs.insert(config.record)
            await tx.tags.put(APP_IMAGE_CONFIG_TAGS, config_id, config.tags.items())
            done.app_image_configs += 1
    return done


async def add_image(tx: Writes, image: ImageEntry, now: int, done: Imported) -> None:
    """Insert an image the catalog does not hold, with its versions, aliases and tags."""
    record = replace(image.record, version_count=len(image.versions))
    image_id = await tx.images.insert(record)
    await tx.tags.put(IMAGE_TAGS, image_id, image.tags.items())
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
    await tx.images.update(
        existing.id,
        **{c.name: getattr(record, c.name) for c in _IMAGE_MEMBERS},
        last_version=max(existing.last_version, record.last_version),
        version_count=len(held) + len(missing),
    )
    await tx.tags.put(IMAGE_TAGS, existing.id, image.tags.items())
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
        kind = None if deleting else _VERSION_JOBS.get(VersionStatus(version.status))
        if kind is not None:
            await tx.jobs.add(kind, image_id, version.version, entry.due_ms or now)
            done.jobs += 1
    done.versions += len(versions)


async def _add_image_job(
    tx: Writes, image_id: int, image: ImageEntry, now: int, done: Imported
) -> None:
    """The job that ends a transitional status, as the server would have added it: due
    when it was in the catalog the image comes from, if known."""
    status = ImageStatus(image.record.status)
    kind = JobKind.IMAGE_DELETE if status == ImageStatus.DELETING else _IMAGE_JOBS.get(status)
    if kind is not None:
        await tx.jobs.add(kind, image_id, None, image.due_ms or now)
        done.jobs += 1


def _name(entry: ImageEntry | ConfigEntry) -> str:
    r = entry.record
    kind = "image" if isinstance(entry, ImageEntry) else "app-image-config"
    return f"{kind} {r.name} (account {r.account}, {r.region})"
