"""The PostgreSQL store's places at its pool: FIFO hand-over, timeouts, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from sagemaker_images.store.pg_slots import Slots


def test_places_are_handed_over_in_order_and_waits_time_out():
    async def scenario() -> None:
        slots = Slots(2, timeout=0.05)
        await slots.acquire()
        await slots.acquire()
        order: list[str] = []

        async def wait(name: str) -> None:
            await slots.acquire()
            order.append(name)

        first = asyncio.create_task(wait("first"))
        second = asyncio.create_task(wait("second"))
        await asyncio.sleep(0)
        assert slots.waiting() == 2
        slots.release()
        slots.release()
        await asyncio.gather(first, second)
        assert order == ["first", "second"]
        with pytest.raises(TimeoutError):
            await slots.acquire()  # both places held, none released
        assert slots.waiting() == 0

    asyncio.run(scenario())


def test_a_cancelled_wait_holds_no_place():
    async def scenario() -> None:
        slots = Slots(1, timeout=5)
        await slots.acquire()
        cancelled = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        slots.release()  # the cancelled wait takes nothing: the place is free again
        await asyncio.wait_for(slots.acquire(), 1)

        # Handed the place in the same turn as its cancellation: it is passed on.
        handed = asyncio.create_task(slots.acquire())
        after = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        slots.release()
        handed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handed
        await asyncio.wait_for(after, 1)

    asyncio.run(scenario())
