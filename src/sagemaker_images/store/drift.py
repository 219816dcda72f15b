"""What the last `drift` check found, kept for the web catalog to show.

A check covers every account's CREATED versions pinned through a tag, so its findings
replace the last check's whole. Rows go with their image (a dependent table of images); a
finding whose version has since gone, or been pinned anew, is stale and left unshown by
comparing the digest it was pinned to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sagemaker_images.store.sql import Queries, Statements


@dataclass(frozen=True, slots=True)
class DriftFinding:
    image_id: int
    version: int
    pinned: str  # the digest the version was pinned to
    current: str | None  # where its tag leads now (None: it cannot be resolved)
    error: str | None
    checked_ms: int


_COLUMNS = "image_id, version, pinned, current_digest, error, checked_ms"


class DriftReads:
    def __init__(self, q: Queries) -> None:
        self._q = q

    async def of_image(self, image_id: int) -> dict[int, DriftFinding]:
        """The findings of an image's versions, by number."""
        rows = await self._q.all(
            f"SELECT {_COLUMNS} FROM image_version_drift WHERE image_id = ?", (image_id,)
        )
        return {int(row[1]): DriftFinding(*row) for row in rows}

    async def every(self) -> list[DriftFinding]:
        rows = await self._q.all(f"SELECT {_COLUMNS} FROM image_version_drift ORDER BY image_id")
        return [DriftFinding(*row) for row in rows]


class DriftWrites(DriftReads):
    def __init__(self, s: Statements) -> None:
        super().__init__(s)
        self._s = s

    async def replace(self, findings: Sequence[DriftFinding]) -> None:
        """The findings of a check, in place of the last check's."""
        await self._s.run("DELETE FROM image_version_drift")
        for f in findings:
            await self._s.run(
                f"INSERT INTO image_version_drift ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (f.image_id, f.version, f.pinned, f.current, f.error, f.checked_ms),
            )
