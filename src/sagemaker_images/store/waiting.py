"""Calls waiting for a statement that another task runs for them (grouped reads, grouped
creates): each is told its answer or its error once, and a call that gave up meanwhile
(its future cancelled) is left alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def answer(waiting: asyncio.Future[T], value: T) -> None:
    if not waiting.done():
        waiting.set_result(value)


def fail(waiting: Iterable[asyncio.Future[T]], error: BaseException) -> None:
    """An Exception is raised to each call; anything else (a cancellation) cancels it: a
    CancelledError set as a result would be reported as never retrieved."""
    for future in waiting:
        if future.done():
            continue
        if isinstance(error, Exception):
            future.set_exception(error)
        else:
            future.cancel()
