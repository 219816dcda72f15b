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

A serving store holds an exclusive lock beside the database file, so it is the one process
that writes; every change it cannot see is then impossible, and single-row reads are kept
until its next commit (a Describe becomes a dictionary lookup instead of three B-tree
searches through the SQLite library, the largest part of a read's cost under load).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sagemaker_images.store.base import Reads, Store, Writes
from sagemaker_images.store.dialect import Dialect
from sagemaker_images.store.errors import (
    DatabaseInUse,
    DatabaseUnusable,
    DuplicateKey,
    StoreUnavailable,
    UnstorableValue,
)
from sagemaker_images.store.migrate import apply_migrations

log = logging.getLogger(__name__)

SQLITE = Dialect(
    name="sqlite",
    autoid="INTEGER PRIMARY KEY AUTOINCREMENT",
    lock="",
    skip_locked="",
    begin_exclusive=("BEGIN IMMEDIATE",),
    without_rowid="WITHOUT ROWID",
)
CHECKPOINT_INTERVAL_SECONDS = 0.5
# Rows kept by a serving store's reader between commits; a full cache starts over.
ROW_CACHE_LIMIT = 10_000
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
_UNIQUE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


class _Statements:
    """The store's primitives over one connection, on the event loop."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._connection.execute(SQLITE.render(sql), params)
        except sqlite3.IntegrityError as error:
            if error.sqlite_errorname in _UNIQUE:
                raise DuplicateKey(str(error)) from error
            raise
        except OverflowError as error:  # an integer beyond SQLite's 64 bits
            raise UnstorableValue(str(error)) from error
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise StoreUnavailable("the database is busy") from error
            raise

    async def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        # fetchall, not fetchone: a RETURNING statement must run to completion before COMMIT.
        rows = self._execute(sql, params).fetchall()
        return rows[0] if rows else None

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._execute(sql, params).fetchall()

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._execute(sql, params).rowcount

    async def lock_key(self, key: str) -> None:
        """Nothing to do: SQLite's one writer already serialises every transaction."""

    async def present(self, owner: str) -> bool:
        """Always: no other server shares the file, so none could take a job over."""
        return True

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """For migrations: the statement as written (it manages its own transaction)."""
        return self._connection.execute(sql, params).fetchall()


class _KeptRows(_Statements):
    """Reads that keep each single-row result until `forget()`, which the store calls after
    every commit: only sound while no other process writes (the server lock)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        self._rows: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}

    async def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self._rows
        key = (sql, *params)
        try:
            return rows[key]
        except KeyError:
            pass
        row = await super().one(sql, params)
        if len(rows) >= ROW_CACHE_LIMIT:
            rows.clear()
        rows[key] = row
        return row

    def forget(self) -> None:
        if self._rows:
            self._rows.clear()


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


def unusable(path: Path, error: OSError | sqlite3.Error) -> DatabaseUnusable:
    """What is wrong with a SQLite file, and what to do, in one line."""
    if isinstance(error, PermissionError):
        return DatabaseUnusable(
            f"cannot use {path}: {error.strerror} ({error.filename}): the server needs to"
            " read and write the file and its directory; choose another --database"
        )
    if isinstance(error, OSError):
        where = error.filename or path
        return DatabaseUnusable(f"cannot use {path}: {error.strerror or error} ({where})")
    text = str(error)
    if "not a database" in text:
        return DatabaseUnusable(
            f"{path} is not a SQLite database (its contents are something else): give the"
            " path of a catalog, or of a file to create"
        )
    if "readonly" in text or "unable to open" in text:
        return DatabaseUnusable(
            f"cannot use {path}: {text}: the server needs to read and write the file and"
            " its directory; choose another --database"
        )
    return DatabaseUnusable(f"cannot use {path}: {text}")


def _hold_server_lock(path: Path) -> int:
    """An exclusive lock on `<database>.lock`, held until the process closes it or dies."""
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise DatabaseInUse(
            f"another server is already serving {path} (it holds {lock_path}): SQLite serves"
            " one server process; point several servers at one PostgreSQL database instead"
        ) from None
    return descriptor


class SqliteStore(Store):
    """With `serving`, the one server of this file: it locks the file and keeps read rows."""

    def __init__(self, path: Path, synchronous: str = "normal", *, serving: bool = False) -> None:
        super().__init__()
        if synchronous.lower() not in {"normal", "full"}:
            raise ValueError("sqlite synchronous must be 'normal' or 'full'")
        self.path = path
        self._lock: int | None = None
        connections: list[sqlite3.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _hold_server_lock(path) if serving else None
            for _ in range(3):  # the writer, the reader, the checkpointer
                connections.append(_connect(path, synchronous))
        except (OSError, sqlite3.Error) as error:
            for connection in connections:
                connection.close()
            if self._lock is not None:
                os.close(self._lock)
            raise unusable(path, error) from error
        self._writer, self._reader_connection, self._checkpointer = connections
        self._statements = _Statements(self._writer)
        # One writer, one transaction at a time: its Writes are made once, not per call.
        self._writes = Writes(self._statements, self.sinks)
        self._rows = _KeptRows(self._reader_connection) if serving else None
        self._reader = Reads(self._rows or _Statements(self._reader_connection))
        self._write_lock = asyncio.Lock()
        self._commits = 0
        # Rounds of checkpointing finished (the WAL wholly copied back at their end).
        self.checkpoints = 0
        self._checkpoint_task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        try:
            applied = await apply_migrations(self._statements, SQLITE)
        except sqlite3.Error as error:
            raise unusable(self.path, error) from error
        except DatabaseUnusable as error:
            raise DatabaseUnusable(f"{self.path}: {error}") from error
        if applied:
            log.info("applied migrations %s to %s", applied, self.path)
        self._checkpoint_task = asyncio.create_task(self._checkpoints(), name="sqlite-checkpoint")

    @property
    def reader(self) -> Reads:
        return self._reader

    @property
    def single_instance(self) -> bool:
        return True

    async def ping(self) -> None:
        self._reader_connection.execute("SELECT 1").fetchall()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Writes]:
        async with self._write_lock:
            statements, writes = self._statements, self._writes
            writes.jobs.earliest_added_ms = None
            writes.events.begin()
            await statements.run("BEGIN IMMEDIATE")
            try:
                yield writes
                await writes.events.flush()
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            try:
                await statements.run("COMMIT")
            finally:
                if self._rows is not None:
                    self._rows.forget()
            self._commits += 1
        self._jobs_committed(writes)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Reads]:
        # A connection of its own: in WAL mode its read transaction is a snapshot, and
        # neither the server's reader nor its writer waits for it.
        connection = _connect(self.path, "normal")
        try:
            statements = _Statements(connection)
            await statements.run("BEGIN")
            yield Reads(statements)
        finally:
            connection.close()

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
                self.checkpoints += 1
            except sqlite3.Error:
                log.exception("WAL checkpoint failed; will retry")
            except RuntimeError:
                # The interpreter is exiting (no thread can be started): close() makes the
                # last checkpoint itself.
                return

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
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
