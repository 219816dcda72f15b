"""SQLite: the embedded default. Runs on the event loop, one writer, WAL for readers.

Statements run synchronously on the event loop (a thread hop per call halves throughput),
so nothing inside a transaction ever yields to another request; the write lock only guards
against a future await slipping into a transaction block. Readers use their own connection
and so never see a transaction that has not committed.

Checkpoints, the one slow thing SQLite does on its own (copying the WAL back into the
database and syncing it), run in a thread beside the loop instead of inside whichever commit
crosses the threshold. A checkpoint from another thread never catches up with a busy writer,
though, and a WAL that is never fully copied back is never restarted: it grows without bound
and every read slows down. So each round copies in bulk while writers carry on, then
finishes while holding the write lock (writers wait without blocking the loop), after which
the next transaction starts the WAL afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sagemaker_images.errors import ServiceUnavailable
from sagemaker_images.store.base import DuplicateKey, Reads, Store, Writes
from sagemaker_images.store.migrate import Dialect, apply_migrations

log = logging.getLogger(__name__)

SQLITE = Dialect(
    name="sqlite",
    autoid="INTEGER PRIMARY KEY AUTOINCREMENT",
    lock="",
    skip_locked="",
    without_rowid="WITHOUT ROWID",
)
CHECKPOINT_INTERVAL_SECONDS = 0.5
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


class _SqliteQueries:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._connection.execute(SQLITE.render(sql), params)
        except sqlite3.IntegrityError as error:
            raise DuplicateKey(str(error)) from error
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise ServiceUnavailable("The database is busy. Please retry.") from error
            raise

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        # fetchall, not fetchone: a RETURNING statement must run to completion before COMMIT.
        rows = self._execute(sql, params).fetchall()
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._execute(sql, params).fetchall()

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._execute(sql, params).rowcount


class SqliteReads(_SqliteQueries, Reads):
    pass


class SqliteWrites(_SqliteQueries, Writes):
    def __init__(self, connection: sqlite3.Connection) -> None:
        _SqliteQueries.__init__(self, connection)
        Writes.__init__(self)


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=256
    )
    for pragma in (
        "journal_mode = WAL",
        f"synchronous = {synchronous.upper()}",
        "busy_timeout = 5000",
        "foreign_keys = OFF",
        "wal_autocheckpoint = 0",
        f"journal_size_limit = {WAL_SIZE_LIMIT_BYTES}",
    ):
        # Always finish a statement: an unfinished one keeps a read snapshot open.
        connection.execute(f"PRAGMA {pragma}").fetchall()
    return connection


class SqliteStore(Store):
    def __init__(self, path: Path, synchronous: str = "normal") -> None:
        super().__init__()
        if synchronous.lower() not in {"normal", "full"}:
            raise ValueError("sqlite synchronous must be 'normal' or 'full'")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._writer = _connect(path, synchronous)
        apply_migrations(self._writer, SQLITE)
        self._reader_connection = _connect(path, synchronous)
        self._checkpointer = _connect(path, synchronous)
        self._reader = SqliteReads(self._reader_connection)
        self._write_lock = asyncio.Lock()
        self._commits = 0
        self._checkpoint_task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._checkpoint_task = asyncio.create_task(self._checkpoints(), name="sqlite-checkpoint")

    @property
    def reader(self) -> Reads:
        return self._reader

    @property
    def single_instance(self) -> bool:
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Writes]:
        async with self._write_lock:
            writes = SqliteWrites(self._writer)
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield writes
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")
            self._commits += 1
        self._jobs_committed(writes)

    async def _checkpoints(self) -> None:
        seen = 0
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_SECONDS)
            if self._commits == seen:
                continue
            seen = self._commits
            try:
                await asyncio.to_thread(self._checkpoint)
                async with self._write_lock:
                    await asyncio.to_thread(self._checkpoint)
            except sqlite3.Error:
                log.exception("WAL checkpoint failed; will retry")

    def _checkpoint(self) -> None:
        # Read the result row: a statement left unfinished would hold a read snapshot open,
        # and an open snapshot is exactly what stops the WAL from ever restarting.
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoint_task
        with contextlib.suppress(sqlite3.Error):
            self._checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        for connection in (self._checkpointer, self._reader_connection, self._writer):
            connection.close()
