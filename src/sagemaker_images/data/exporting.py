"""Write a catalog, as one snapshot, in the export format (`archive.py`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from sagemaker_images.data import archive
from sagemaker_images.resources.kinds import IMAGE, jobs_of_subject
from sagemaker_images.store import Reads, Store

# Rows read per query while walking a table.
BATCH = 500


async def export_lines(
    store: Store, account: str | None, counts: list[int]
) -> AsyncIterator[bytes]:
    """The archive of every resource (of one account, if given), line by line; `counts`
    (empty when given) ends up holding the end line's counts.

    One snapshot: a server may carry on writing, and the file still holds one moment of it.
    """
    found = dict.fromkeys(archive.COUNTS, 0)
    async with store.snapshot() as reads:
        yield archive.header(account, time.time())
        async for image in _images(reads, account):
            found["images"] += 1
            found["versions"] += len(image.versions)
            for line in archive.image_lines(image):
                yield line
        for name, kind in archive.ONE_LINE.items():
            rows = reads.of(kind)
            jobs = jobs_of_subject(kind)
            after = 0
            while records := await rows.every(account, after, BATCH):
                for record in records:
                    tags = await reads.tags.of(kind.arn_type, record.id) if kind.tagged else {}
                    due = (await reads.jobs.due_of(jobs, record.id)).get(None) if jobs else None
                    found[kind.plural] += 1
                    yield archive.entry_line(name, archive.Entry(record, tags, due))
                after = records[-1].id
    counts[:] = found.values()
    yield archive.end(tuple(counts))


async def _images(reads: Reads, account: str | None) -> AsyncIterator[archive.ImageEntry]:
    after = 0
    while images := await reads.of(IMAGE).every(account, after, BATCH):
        for image in images:
            aliases = await reads.aliases.of_image(image.id)
            due = await reads.jobs.due_of(jobs_of_subject(IMAGE), image.id)
            versions = [
                archive.VersionEntry(
                    version, aliases.get(version.version, []), due.get(version.version)
                )
                for version in await reads.versions.of_image(image.id)
            ]
            tags = await reads.tags.of(IMAGE.arn_type, image.id)
            yield archive.ImageEntry(image, tags, versions, due.get(None))
        after = images[-1].id
