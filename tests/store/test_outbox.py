"""The outbox of state-change events, on each backend: written with the change (on
PostgreSQL also by the statement that writes a group of creates), one delivery per sink,
one delivery job per delivered sink, trimmed once every sink has its events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from inprocess import LoopThread
from support import Databases, fresh_database, open_test_store
from test_conformance import REGION, add_image, image, version

from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.resources.records import ClientTokenRecord
from sagemaker_images.store import Store
from sagemaker_images.store.events import DELIVER, IMAGE_EVENT, VERSION_EVENT, NewEvent
from sagemaker_images.store.versions import Created, NewVersion

ACCOUNT = "111122223333"


@pytest.fixture
def fresh(
    backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LoopThread, Store]]:
    """A store of the test's own, on a new database: its sinks are the test's."""
    loop = LoopThread()
    url = fresh_database(backend, databases, tmp_path_factory.mktemp("outbox"))
    store = open_test_store(backend, url, loop)
    yield loop, store
    loop.run(store.close())
    loop.close()


async def _sinks(store: Store, recorded: list[str], delivered: list[str]) -> dict[str, int]:
    async with store.transaction() as tx:
        ids = await tx.events.register(recorded, 1000)
    store.sinks.set([ids[n] for n in recorded], [ids[n] for n in delivered])
    return ids


def _create(name: str, token: str, at: int) -> NewVersion:
    return NewVersion(
        image=(ACCOUNT, REGION, name.lower()),
        version=version(0, 0, at=at),
        token=ClientTokenRecord(0, token, f"digest-{token}", 0, at),
        aliases=[],
        job=("version.create", 10**15),
        status="CREATED",
        limit=100,
    )


def test_nothing_is_written_without_sinks(fresh):
    loop, store = fresh

    async def scenario() -> None:
        await add_image(store, image(ACCOUNT, "quiet"))
        assert isinstance(await store.create_version(_create("quiet", "q", 5000)), Created)
        assert await store.reader.events.backlogs() == []
        assert await store.reader.jobs.pending([DELIVER]) == []

    loop.run(scenario())


def test_creates_write_their_events_for_every_sink(fresh):
    """Versions made at once (one statement on PostgreSQL) each write a CREATING event
    with their image's tags, for every sink; each delivered sink gets one delivery job."""
    loop, store = fresh

    async def scenario() -> None:
        ids = await _sinks(store, ["a", "b", "kept"], ["a", "b"])
        image_id = await add_image(store, image(ACCOUNT, "Tagged"))
        async with store.transaction() as tx:
            await tx.tags.put("image", image_id, [("team", "ml"), ("cost", "42")])
        made = await asyncio.gather(
            *(store.create_version(_create("tagged", f"t{n}", 6000 + n)) for n in range(5))
        )
        assert sorted(m.number for m in made if isinstance(m, Created)) == [1, 2, 3, 4, 5]
        for sink in ("a", "b", "kept"):
            pending = await store.reader.events.pending(ids[sink], 100)
            assert sorted(p.event.version or 0 for p in pending) == [1, 2, 3, 4, 5]
            for stored in pending:
                assert stored.event == NewEvent(
                    ACCOUNT,
                    REGION,
                    VERSION_EVENT,
                    "Tagged",
                    stored.event.version,
                    "CREATING",
                    None,
                    {"cost": "42", "team": "ml"},
                    6000 + (stored.event.version or 0) - 1,
                )
        uuids = {p.uuid for p in await store.reader.events.pending(ids["a"], 100)}
        assert len(uuids) == 5
        jobs = await store.reader.jobs.pending([DELIVER])
        assert sorted(j.subject_id for j in jobs) == sorted([ids["a"], ids["b"]])

    loop.run(scenario())


def test_events_leave_the_outbox_once_every_sink_has_them(fresh):
    loop, store = fresh

    async def scenario() -> None:
        ids = await _sinks(store, ["a", "b"], ["a", "b"])
        image_id = await add_image(store, image(ACCOUNT, "plain"))
        async with store.transaction() as tx:
            found = await tx.of(IMAGE).by_row(image_id)
            assert found is not None
            await tx.events.image(found, "UPDATING", 7000)
            await tx.events.image(found, "CREATED", 7001)
        a = await store.reader.events.pending(ids["a"], 100)
        assert [(e.event.kind, e.event.status, e.event.version) for e in a] == [
            (IMAGE_EVENT, "UPDATING", None),
            (IMAGE_EVENT, "CREATED", None),
        ]
        async with store.transaction() as tx:
            await tx.events.delivered(ids["a"], [a[0].id])
        backlogs = {b.sink_id: (b.count, b.oldest_ms) for b in await store.reader.events.backlogs()}
        assert backlogs == {ids["a"]: (1, 7001), ids["b"]: (2, 7000)}
        async with store.transaction() as tx:
            await tx.events.delivered(ids["b"], [e.id for e in a])
            await tx.events.delivered(ids["a"], [a[1].id])
            assert not await tx.events.has_pending(ids["a"])
        assert await store.reader.events.backlogs() == []
        # Every event row went with its last delivery.
        async with store.transaction() as tx:
            assert await tx.events.forget(ids["a"]) == 0

    loop.run(scenario())


def test_a_sink_has_one_delivery_job_and_a_sweep_finds_the_unscheduled(fresh):
    loop, store = fresh

    async def scenario() -> None:
        ids = await _sinks(store, ["a"], ["a"])
        async with store.transaction() as tx:
            await tx.events.schedule(ids["a"], 10)
            await tx.events.schedule(ids["a"], 5)  # it has one: nothing more
        jobs = await store.reader.jobs.pending([DELIVER])
        assert [(j.subject_id, j.kind) for j in jobs] == [(ids["a"], DELIVER)]
        assert await store.reader.events.unscheduled([ids["a"]]) == []  # nothing waits
        async with store.transaction() as tx:
            await tx.events.record(
                [NewEvent(ACCOUNT, REGION, IMAGE_EVENT, "x", None, "CREATING", None, {}, 1)], 1
            )
        owner = "outbox-test"
        async with store.presence(owner), store.transaction() as tx:
            claimed = await tx.jobs.claim(owner, 10**6, 10**6 + 1000, 10)
            assert [j.kind for j in claimed] == [DELIVER]
            await tx.jobs.finish([claimed[0].id], owner)
        assert await store.reader.events.unscheduled([ids["a"]]) == [ids["a"]]
        # A delivery is no transition: a call that waits for transitions does not wait for it.
        async with store.transaction() as tx:
            await tx.events.schedule(ids["a"], 0)
        assert not await store.reader.jobs.any_due(10**6)

    loop.run(scenario())


def test_sinks_no_server_names_are_retired_with_their_events(fresh):
    loop, store = fresh

    async def scenario() -> None:
        ids = await _sinks(store, ["old", "current"], ["old", "current"])
        async with store.transaction() as tx:
            await tx.events.record(
                [NewEvent(ACCOUNT, REGION, IMAGE_EVENT, "x", None, "CREATING", None, {}, 1)], 1
            )
        async with store.transaction() as tx:
            assert await tx.events.register(["current"], 5000) == {"current": ids["current"]}
            assert await tx.events.retire(2000, [ids["current"]]) == ["old"]
        backlogs = {b.sink_id: b.count for b in await store.reader.events.backlogs()}
        assert backlogs == {ids["current"]: 1}
        jobs = await store.reader.jobs.pending([DELIVER])
        assert [j.subject_id for j in jobs] == [ids["current"]]
        async with store.transaction() as tx:
            assert await tx.events.retire(10_000, []) == ["current"]
        assert await store.reader.events.backlogs() == []

    loop.run(scenario())
