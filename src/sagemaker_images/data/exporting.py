"""Write a catalog, as one snapshot, in the export format (`archive.py`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sagemaker_images.data import archive
from sagemaker_images.records import APP_IMAGE_CONFIG_TAGS, IMAGE_TAGS
from sagemaker_images.store.base import Reads, Store

# Rows read per query while walking a table.
BATCH = 500


@dataclass
class Counts:
    images: int = 0
    versions: int = 0
    app_image_configs: int = 0


async def export_lines(
    store: Store, account: str | None, counts: Counts | None = None
) -> AsyncIterator[bytes]:
    """The archive of every resource (of one account, if given), line by line.

    One snapshot: a server may carry on writing, and the file still holds one moment of it.
    """
    counts = counts if counts is not None else Counts()
    async with store.snapshot() as reads:
        yield archive.header(account, time.time())
        async for image in _images(reads, account):
            counts.images += 1
            counts.versions += len(image.versions)
            for line in archive.image_lines(image):
                yield line
        after = 0
        while configs := await reads.app_image_configs.every(account, after, BATCH):
            for config in configs:
                tags = await reads.tags.of(APP_IMAGE_CONFIG_TAGS, config.id)
                counts.app_image_configs += 1
                yield archive.config_line(archive.ConfigEntry(config, tags))
            after = configs[-1].id
        yield archive.end(counts.images, counts.versions, counts.app_image_configs)


async def _images(reads: Reads, account: str | None) -> AsyncIterator[archive.ImageEntry]:
    after = 0
    while images := await reads.images.every(account, after, BATCH):
        for image in images:
            aliases = await reads.aliases.of_image(image.id)
            due = await reads.jobs.due_of(image.id)
            versions = [
                archive.VersionEntry(
                    version, aliases.get(version.version, []), due.get(version.version)
                )
                for version in await reads.versions.of_image(image.id)
            ]
            tags = await reads.tags.of(IMAGE_TAGS, image.id)
            yield archive.ImageEntry(image, tags, versions, due.get(None))
        after = images[-1].id
