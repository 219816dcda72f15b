"""A PostgreSQL server's presence: a connection of its own, outside the pool, that holds
a session advisory lock named by the server's job owner id for as long as the server runs
(the others take over the jobs of an owner whose lock is free), and LISTENs for the jobs
any server adds. Made again, lock and all, whenever it is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Callable

import psycopg
from psycopg import AsyncConnection

from sagemaker_images.config import redacted
from sagemaker_images.store.base import JobListener, Presence
from sagemaker_images.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

# A server's presence lock is keyed by its owner id hashed with this seed (the keys of
# `lock_key` use seed 0, so the two never meet but by a 64-bit collision).
PRESENCE_SEED = zlib.crc32(b"sagemaker-images presence")
JOB_CHANNEL = "sagemaker_images_jobs"
CONNECT_TIMEOUT_SECONDS = 5
_TAKE_PRESENCE = f"SELECT pg_advisory_lock(hashtextextended(%s, {PRESENCE_SEED}))"
# Closing a connection only asks the database to end its session, which frees the lock a
# moment later: unlocked first, a stopped presence is gone to every server on return (a
# claim just after would otherwise still find it held, and lease jobs to its owner).
_GIVE_UP_PRESENCE = "SELECT pg_advisory_unlock_all()"
# Between attempts to make a lost presence connection again: recovery follows the database
# within this (a refused connection costs the database nothing).
RETAKE_SECONDS = 0.25


def _due(payload: str) -> int:
    """A job notification's due time (0, look now, if it is not one of ours)."""
    try:
        return int(payload)
    except ValueError:
        return 0


class PostgresPresence(Presence):
    """A connection of the server's own that holds its presence lock and LISTENs for new
    jobs; made again, lock and all, whenever it is lost."""

    def __init__(
        self, url: str, owner: str, on_jobs: JobListener, forget: Callable[[PostgresPresence], None]
    ) -> None:
        self._url = url
        self._owner = owner
        self._on_jobs = on_jobs
        self._forget = forget
        self._held = False
        self._first = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self._held

    async def start(self, timeout: float = CONNECT_TIMEOUT_SECONDS * 2) -> None:
        self._task = asyncio.create_task(self._hold(), name="presence")
        try:
            await asyncio.wait_for(self._first.wait(), timeout)
        except TimeoutError:
            await self.stop()
            raise StoreUnavailable(
                f"cannot take this server's presence lock on {redacted(self._url)}"
            ) from None

    async def stop(self) -> None:
        self._forget(self)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._held = False

    async def _hold(self) -> None:
        lost = False  # the warning is logged once an outage, not at each attempt
        while True:
            try:
                connection = await AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name=f"sagemaker-images {self._owner}"[:63],
                    client_encoding="UTF8",  # as every connection's (pg_connections.py)
                )
            except psycopg.Error as error:
                if not lost:
                    log.warning("presence connection failed (%s); trying again", error)
                lost = True
                await asyncio.sleep(RETAKE_SECONDS)
                continue
            try:
                await connection.execute(_TAKE_PRESENCE, (self._owner,))
                await connection.execute(f"LISTEN {JOB_CHANNEL}")
                self._held = True
                self._first.set()
                if lost:
                    log.info("presence lock taken again, listening for jobs")
                    lost = False
                self._on_jobs(0)  # jobs added while nobody listened
                async for notice in connection.notifies():
                    self._on_jobs(_due(notice.payload))
            except psycopg.Error as error:
                log.warning("presence connection lost (%s); taking it again", error)
                lost = True
            except Exception:
                log.exception("presence connection failed; taking it again")
                lost = True
            finally:
                self._held = False
                if not connection.broken:
                    with contextlib.suppress(psycopg.Error, TimeoutError):
                        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                            await connection.execute(_GIVE_UP_PRESENCE)
                await connection.close()
            await asyncio.sleep(RETAKE_SECONDS)
