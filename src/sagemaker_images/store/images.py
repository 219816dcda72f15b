"""Images: their rows, and everything that hangs off an image when it goes."""

from __future__ import annotations

from typing import Any

from sagemaker_images.records import IMAGE_TAGS, ImageRecord
from sagemaker_images.states import IMAGE_JOB_KINDS
from sagemaker_images.store.jobs import delete_jobs
from sagemaker_images.store.named import NamedReads
from sagemaker_images.store.sql import Statements
from sagemaker_images.store.tables import Table
from sagemaker_images.store.tags import delete_all_tags

IMAGES = Table("images", ImageRecord)
_BY_ID = f"SELECT {IMAGES.select_list} FROM images WHERE id = ?"
# The rows of an image's own tables, removed with it (pending jobs included).
DEPENDENTS = ("image_version_aliases", "client_tokens", "image_versions")


class ImageReads(NamedReads[ImageRecord]):
    table = IMAGES

    async def by_id(self, image_id: int, *, lock: bool = False) -> ImageRecord | None:
        row = await self._q.one(_BY_ID + (" {lock}" if lock else ""), (image_id,))
        return IMAGES.record(row) if row else None

    async def count(self, account: str, region: str) -> int:
        row = await self._q.one(
            "SELECT COUNT(*) FROM images WHERE account = ? AND region = ?", (account, region)
        )
        return int(row[0]) if row else 0


class ImageWrites(ImageReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def lock_quota(self, account: str, region: str) -> None:
        """Serialise, until commit, the creates that count images in one account and region
        against its quota, so that racing creates cannot both take the last place."""
        await self._s.lock_key(f"quota:images:{account}:{region}")

    async def insert(self, image: ImageRecord) -> int:
        row = await self._s.one(IMAGES.insert_sql, IMAGES.insert_params(image))
        assert row is not None
        return int(row[0])

    async def update(self, image_id: int, **changes: Any) -> None:
        assignments, params = IMAGES.assignments(changes)
        await self._s.run(f"UPDATE images SET {assignments} WHERE id = ?", [*params, image_id])

    async def delete(self, image_id: int) -> None:
        """Remove an image and everything that hangs off it."""
        for table in DEPENDENTS:
            await self._s.run(f"DELETE FROM {table} WHERE image_id = ?", (image_id,))
        await delete_jobs(self._s, IMAGE_JOB_KINDS, image_id)
        await delete_all_tags(self._s, IMAGE_TAGS, image_id)
        await self._s.run("DELETE FROM images WHERE id = ?", (image_id,))
