"""Grouping: the PostgreSQL store's one capability beyond the shared SQL. Calls that
arrive while the database is busy go to it together: lookups that wait for a connection
as one statement (pg_reads.py), and CreateImageVersion's writes as one statement and one
commit (pg_creates.py). Each call still gets the answer it would have had alone.

With `always`, every lookup and every create takes the grouping path, a lone one too: the
store's conformance tests run so, beside a store that groups only when calls wait, so
that both paths are exercised on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagemaker_images.store.events import EventSinks
from sagemaker_images.store.pg_creates import Outcome, VersionCreates, Write
from sagemaker_images.store.pg_reads import Fetch, GroupedReads, Rows
from sagemaker_images.store.versions import NewVersion


class Grouping:
    def __init__(
        self,
        fetch: Fetch,
        connection_free: Any,
        write: Write,
        sinks: EventSinks,
        *,
        always: bool = False,
    ) -> None:
        self._reads = GroupedReads(fetch, connection_free, always=always)
        self._creates = VersionCreates(write, sinks, always=always)

    async def read(self, sql: str, params: Sequence[Any]) -> Rows:
        """The rows of one read: with other lookups of its statement when it would wait for
        a connection."""
        return await self._reads.rows(sql, params)

    async def create(self, new: NewVersion) -> Outcome:
        """A version's writes, with the other creates that arrive while a group is being
        written: the image's stored name and the number, or None if refused."""
        return await self._creates.create(new)

    async def create_alone(self, new: NewVersion) -> Outcome:
        return await self._creates.alone(new)

    def stats(self) -> dict[str, int]:
        """Statements that answered several lookups since the start, and those lookups."""
        return {"read_groups": self._reads.groups, "grouped_reads": self._reads.grouped}

    async def close(self) -> None:
        await self._reads.close()
