"""Places at a PostgreSQL server's pool: a semaphore whose waits time out."""

from __future__ import annotations

import asyncio
from collections import deque


class Slots:
    """At most `size` holders; a wait longer than `timeout` seconds raises TimeoutError.

    One timer per wait that has to wait, nothing more: `asyncio.timeout` around a
    semaphore (a task lookup, a context manager and a reschedule on every call) cost 8% of
    a read's time under load, when every call waits.
    """

    def __init__(self, size: int, timeout: float) -> None:
        self._free = size
        self._timeout = timeout
        self._waiters: deque[asyncio.Future[None]] = deque()

    def free(self) -> bool:
        """Whether a holder would get a place at once."""
        return self._free > 0

    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self) -> None:
        if self._free > 0:
            self._free -= 1
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self._timeout, _expire, waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # handed a place just as the wait was cancelled: pass it on
            raise
        finally:
            timer.cancel()

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
