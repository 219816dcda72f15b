"""A PostgreSQL server's connections: taken from psycopg's pool, queued for on a semaphore
of the server's own, and kept between calls.

Callers queue here rather than in the pool: the pool's own queue of waiting clients cost
far more per call (measured: 6k against 13-16k reads/s at 64 concurrent calls), so at most
`size` callers ever ask it for a connection. A server keeps the connections it has used
for up to KEPT_SECONDS instead of handing each back between calls (the pool's checks and
locks on every call cost 6% of a read); then they go back, so that the pool's upkeep (its
connections' lifetime) still applies.

A connection the database terminated while it sat idle (a restart) fails the first
statement sent on it without running it: a read passes on to the next connection (`live`),
and a write, which is never sent twice, is not given one (`acquire(for_write=True)`).
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from sagemaker_images.config import redacted
from sagemaker_images.store.errors import StoreUnavailable, UnstorableValue
from sagemaker_images.store.pg_presence import CONNECT_TIMEOUT_SECONDS
from sagemaker_images.store.pg_slots import Slots
from sagemaker_images.store.sql import Batch

log = logging.getLogger(__name__)

# How long a server keeps a connection it took from the pool before handing it back.
KEPT_SECONDS = 300.0
# How long the pool keeps retrying one lost connection before leaving the next request to
# open a fresh one (which it then does at once): short, so recovery follows the database.
RECONNECT_SECONDS = 2.0
# Every connection's: text travels as UTF-8 whatever the database's own encoding (one made
# by `initdb` without a UTF-8 locale is SQL_ASCII, whose text psycopg would hand over as
# bytes).
CONNECTION_OPTIONS: dict[str, Any] = {"client_encoding": "UTF8"}
# Makes the statement to send once a connection is held: (SQL, parameters).
StatementMaker = Callable[[], tuple[str, Sequence[Any]]]


def unavailable(error: Exception) -> StoreUnavailable:
    log.warning("database unavailable: %s", error)
    failure = StoreUnavailable(f"the database cannot be reached: {type(error).__name__}")
    failure.__cause__ = error
    return failure


def _spoke_while_idle(connection: AsyncConnection[Any]) -> bool:
    """Whether the server wrote to a connection that had nothing to answer: what an idle
    connection receives is its termination (a restart, `pg_terminate_backend`). One
    non-blocking poll of its socket, no round trip."""
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


def prepared(sql: str) -> bool | None:
    """psycopg's `prepare`: never for a batch's statement (`sql.Batch`), else its default
    (prepared once it has run a few times on the connection)."""
    return False if isinstance(sql, Batch) else None


def unstorable(error: psycopg.DataError) -> UnstorableValue:
    """A value the validator let through that PostgreSQL cannot hold: the caller's to fix."""
    log.warning("value refused by the database: %s", error)
    return UnstorableValue(str(error))


class Connections:
    """Up to `size` connections to `url` (see the module's text); a caller waiting longer
    than `timeout` seconds for one is answered unavailable."""

    def __init__(self, url: str, size: int, timeout: float) -> None:
        if size < 1:
            raise ValueError("the database pool needs at least one connection")
        self.url = url
        self.size = size
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=size,
            timeout=timeout,
            reconnect_timeout=RECONNECT_SECONDS,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "sagemaker-images",
                **CONNECTION_OPTIONS,
            },
            open=False,
            name="sagemaker-images",
        )
        self._slots = Slots(size, timeout)
        self._idle: list[AsyncConnection[Any]] = []  # taken from the pool, free for use
        self._kept_until: dict[int, float] = {}  # by id(): when to hand it back to the pool

    async def open(self) -> None:
        try:
            await self._pool.open(wait=True, timeout=self._pool.timeout * 2)
        except PoolTimeout as error:
            await self._pool.close()
            raise StoreUnavailable(f"cannot connect to {redacted(self.url)}") from error

    def stats(self) -> dict[str, int]:
        """Connections in the pool, those free (kept by the server, or in the pool), and
        callers waiting."""
        stats = self._pool.get_stats()
        return {
            "pool_size": stats.get("pool_size", 0),
            "pool_available": stats.get("pool_available", 0) + len(self._idle),
            "waiting": self._slots.waiting() + stats.get("requests_waiting", 0),
        }

    async def acquire(self, *, for_write: bool = False) -> AsyncConnection[Any]:
        """A connection, once one of the `size` places is free. `for_write`: for a
        statement that is not sent twice, so not one on a connection the database
        terminated while it sat idle (reads pass over those as they fail: see `live`)."""
        try:
            await self._slots.acquire()
        except TimeoutError as error:
            raise unavailable(error) from error
        try:
            for _ in range(self.size if for_write else 0):
                connection = await self._next_connection()
                if not _spoke_while_idle(connection):
                    return connection
                # The statement would fail without having run, and a write answered 503
                # for that is a call refused after the database came back.
                await connection.close()
                self._kept_until.pop(id(connection), None)
                await self._pool.putconn(connection)  # discarded, and replaced
            return await self._next_connection()
        except BaseException as error:
            self._slots.release()
            if isinstance(error, PoolTimeout):
                raise unavailable(error) from error
            raise

    async def _next_connection(self) -> AsyncConnection[Any]:
        """The connection released last, else one from the pool."""
        if self._idle:
            return self._idle.pop()
        connection = await self._pool.getconn()
        self._kept_until[id(connection)] = time.monotonic() + KEPT_SECONDS
        return connection

    async def release(self, connection: AsyncConnection[Any]) -> None:
        try:
            if (
                connection.info.transaction_status == TransactionStatus.IDLE
                and time.monotonic() < self._kept_until.get(id(connection), 0)
            ):
                self._idle.append(connection)  # kept for the next caller
            else:
                # The pool resets it, or replaces it (broken, or past its lifetime).
                self._kept_until.pop(id(connection), None)
                await self._pool.putconn(connection)
        finally:
            self._slots.release()

    def free(self) -> bool:
        """Whether a caller would be given a connection without waiting."""
        return self._slots.free()

    async def live(
        self, statement: StatementMaker
    ) -> tuple[AsyncConnection[Any], psycopg.AsyncCursor[Any]]:
        """A pooled connection that has run the statement `statement()` makes once the
        connection is held (the same each time: a read, or BEGIN, safe to run again),
        passing over connections that died while idle. The caller releases it."""
        for _ in range(self.size + 1):
            connection = await self.acquire()
            try:
                sql, params = statement()
                return connection, await connection.execute(sql, params, prepare=prepared(sql))
            except psycopg.DataError as error:
                await self.release(connection)
                raise unstorable(error) from error
            except psycopg.OperationalError as error:
                await self.release(connection)
                if not connection.broken:
                    raise unavailable(error) from error
                last = error
            except BaseException:
                await self.release(connection)
                raise
        raise unavailable(last)

    async def close(self) -> None:
        while self._idle:
            await self._pool.putconn(self._idle.pop())
        self._kept_until.clear()
        await self._pool.close()
