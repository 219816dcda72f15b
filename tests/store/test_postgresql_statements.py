"""What only the PostgreSQL store does: reads that wait for a connection together are
answered by one statement, each exactly as it would have been answered alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest
from inprocess import LoopThread
from support import fresh_database, image_record

from sagemaker_images.config import Settings
from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.store import Store, StoreUnavailable, UnstorableValue, open_store
from sagemaker_images.store.postgresql import PostgresStore
from sagemaker_images.store.sql import Lookup

pytestmark = pytest.mark.backends("postgresql")
ACCOUNT, REGION = "123456789012", "us-east-1"
Read = Callable[[], Awaitable[Any]]


POOL_TIMEOUT = 0.3


@pytest.fixture
def store(backend, databases, tmp_path) -> Iterator[tuple[LoopThread, PostgresStore]]:
    """A store of one connection, so that a read asked while it is held has to wait."""
    loop = LoopThread()
    url = fresh_database(backend, databases, tmp_path)
    settings = Settings(database_url=url, database_pool_size=1, database_pool_timeout=POOL_TIMEOUT)
    opened = loop.run(open_store(settings))
    assert isinstance(opened, PostgresStore)
    loop.run(_catalog(opened))
    yield loop, opened
    loop.run(opened.close())
    loop.close()


async def _catalog(store: Store) -> None:
    """Two images, one of three versions (the last deleted) with an alias on the second."""
    async with store.transaction() as tx:
        for name in ("Looked", "Other"):
            image_id = await tx.of(IMAGE).insert(
                image_record(name, account=ACCOUNT, region=REGION, name_key=name.lower())
            )
        looked = await tx.of(IMAGE).find(ACCOUNT, REGION, "looked")
        assert looked is not None
        key = (ACCOUNT, REGION, "looked")
        for _ in range(3):
            allocated = await tx.versions.allocate_number(key, looked.status, 100, "")
            assert allocated is not None
            await tx.versions.insert(_version(looked.id, allocated[2]))
        await tx.aliases.add(looked.id, 2, ["two"])
        await tx.versions.delete(looked.id, 3)
    assert image_id


def _version(image_id: int, number: int) -> Any:
    from sagemaker_images.resources.records import VersionRecord

    return VersionRecord(
        image_id=image_id,
        version=number,
        base_image=f"registry.example/app:{number}",
        container_image=None,
        status="CREATED",
        failure_reason=None,
        vendor_guidance=None,
        job_type=None,
        ml_framework=None,
        programming_lang=None,
        processor=None,
        horovod=None,
        release_notes=None,
        created_ms=number,
        modified_ms=number,
    )


async def _answer(read: Read) -> Any:
    """What a read gave: its value, or the type of the error it raised."""
    try:
        return await read()
    except Exception as error:
        return type(error)


async def _alone_and_waiting(store: PostgresStore, reads: list[Read]) -> tuple[list, list]:
    """Each read asked with the connection free, then all asked while it is held."""
    alone = [await _answer(read) for read in reads]
    async with store.transaction():  # holds the only connection
        waiting = [asyncio.ensure_future(_answer(read)) for read in reads]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in waiting)
    return alone, list(await asyncio.gather(*waiting))


def _lookups(store: Store) -> list[Read]:
    lookup = store.reader.versions.lookup
    find = store.reader.of(IMAGE).find
    return [
        lambda: lookup(ACCOUNT, REGION, "looked", version=1, alias=None),
        lambda: lookup(ACCOUNT, REGION, "looked", version=2, alias=None),
        lambda: lookup(ACCOUNT, REGION, "looked", version=3, alias=None),  # deleted
        lambda: lookup(ACCOUNT, REGION, "ghost", version=1, alias=None),  # no such image
        lambda: lookup(ACCOUNT, REGION, "other", version=1, alias=None),  # no versions
        lambda: lookup(ACCOUNT, REGION, "looked", version=None, alias=None),  # the latest
        lambda: lookup(ACCOUNT, REGION, "looked", version=None, alias="two"),
        lambda: lookup(ACCOUNT, REGION, "looked", version=None, alias="nope"),
        lambda: find(ACCOUNT, REGION, "looked"),
        lambda: find(ACCOUNT, REGION, "other"),
        lambda: find(ACCOUNT, REGION, "ghost"),
        lambda: find("000000000000", REGION, "looked"),  # another account's
    ]


def test_reads_that_wait_together_are_answered_as_if_alone(store):
    loop, opened = store
    reads = _lookups(opened) * 3

    alone, waiting = loop.run(_alone_and_waiting(opened, reads))

    assert waiting == alone
    assert alone[0].version.version == 1 and alone[2].version is None
    assert alone[3].image is None and alone[6].alias_version == 2
    stats = opened.pool_stats()
    # Four statements among the reads (a version by number, the latest, by alias; an
    # image): each went once, for all the reads of it that waited.
    assert stats["grouped_reads"] == len(reads)
    assert stats["read_groups"] == 4


def test_a_read_given_up_leaves_the_others_of_its_group_answered(store):
    loop, opened = store
    lookup = opened.reader.versions.lookup

    async def scenario() -> list[Any]:
        async with opened.transaction():
            kept = [
                asyncio.ensure_future(lookup(ACCOUNT, REGION, "looked", version=n, alias=None))
                for n in (1, 2, 3)
            ]
            given_up = asyncio.ensure_future(
                lookup(ACCOUNT, REGION, "looked", version=2, alias=None)
            )
            await asyncio.sleep(0.05)
            given_up.cancel()
        return [found.version and found.version.version for found in await asyncio.gather(*kept)]

    assert loop.run(scenario()) == [1, 2, None]
    assert opened.pool_stats()["grouped_reads"] == 4  # the cancelled one was still asked


def test_a_value_postgresql_cannot_hold_fails_only_its_own_read(store):
    """JSON carries a NUL character that PostgreSQL text refuses: the group is refused for
    it and each read is asked again alone, so only that read fails, as it would alone."""
    loop, opened = store
    find = opened.reader.of(IMAGE).find
    reads: list[Read] = [
        lambda: find(ACCOUNT, REGION, "looked"),
        lambda: find(ACCOUNT, REGION, "lo\x00oked"),
        lambda: find(ACCOUNT, REGION, "other"),
    ]

    alone, waiting = loop.run(_alone_and_waiting(opened, reads))

    assert alone[1] is UnstorableValue
    assert waiting == alone
    assert opened.pool_stats()["read_groups"] == 0


def test_statements_that_cannot_be_grouped_are_asked_alone_and_remembered(store, caplog):
    """An aggregate of nothing but a parameter would be the outer statement's aggregate
    (PostgreSQL refuses it there), and a parameter that is NULL in every read has no type
    to be given in the JSON rows: such reads still get their answers, alone."""
    caplog.set_level(logging.DEBUG, logger="sagemaker_images.store.pg_reads")
    loop, opened = store
    queries = opened.reader.of(IMAGE)._q  # the raw reads every table of the store uses
    counted = Lookup("SELECT count(?::text) FROM images WHERE account = ?")
    nulls = Lookup(
        "SELECT name FROM images WHERE account = ? AND name = COALESCE(?, name) ORDER BY name"
    )
    reads: list[Read] = [
        lambda: queries.one(counted, ("x", ACCOUNT)),
        lambda: queries.one(counted, ("y", ACCOUNT)),
        lambda: queries.one(nulls, (ACCOUNT, None)),
        lambda: queries.one(nulls, (ACCOUNT, None)),
    ]

    alone, waiting = loop.run(_alone_and_waiting(opened, reads))
    again = loop.run(_alone_and_waiting(opened, reads[:2]))[1]

    assert waiting == alone == [(2,), (2,), ("Looked",), ("Looked",)]
    assert again == alone[:2]
    assert opened.pool_stats()["read_groups"] == 0
    refusals = [r for r in caplog.records if "not grouped" in r.getMessage()]
    assert len(refusals) == 1  # the count's statement, once: the second wave went alone


def test_a_group_that_never_got_a_connection_takes_no_more_reads(store):
    """Reads that waited longer than the pool's timeout are answered unavailable together;
    a read asked after that starts a group of its own instead of joining theirs (which no
    one would ever answer)."""
    loop, opened = store
    lookup = opened.reader.versions.lookup

    def read() -> Awaitable[Any]:
        return _answer(lambda: lookup(ACCOUNT, REGION, "looked", version=1, alias=None))

    async def scenario() -> tuple[list[Any], Any]:
        async with opened.transaction():
            timed_out = await asyncio.gather(read(), read())
            later = asyncio.ensure_future(read())
            await asyncio.sleep(0.05)
        return timed_out, await asyncio.wait_for(later, POOL_TIMEOUT * 10)

    timed_out, later = loop.run(scenario())

    assert timed_out == [StoreUnavailable, StoreUnavailable]
    assert later.version.version == 1


def test_batch_statements_are_never_prepared(store):
    """A statement for a batch of rows is planned for its values each time it runs; a
    one-row read is prepared once it has run a few times, as psycopg does."""
    loop, opened = store

    async def scenario() -> list[str]:
        for _ in range(8):
            await opened.reader.versions.find_many([(1, 1), (1, 2)])
            await opened.reader.of(IMAGE).find(ACCOUNT, REGION, "looked")
        connection = await opened.connections.acquire()  # the one every read above used
        try:
            cursor = await connection.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in await cursor.fetchall()]
        finally:
            await opened.connections.release(connection)

    prepared = loop.run(scenario())

    assert any("FROM images" in statement for statement in prepared), prepared
    assert not any("image_versions" in statement for statement in prepared), prepared


def test_only_lookups_are_grouped(store):
    """A statement is grouped only when declared a lookup (`sql.Lookup`: at most one row,
    by key): SQL promises no order to a join's rows, so any other read runs alone."""
    loop, opened = store
    queries = opened.reader.of(IMAGE)._q
    sorted_read = "SELECT name FROM images WHERE account = ? ORDER BY name DESC"
    reads: list[Read] = [
        *(lambda: queries.one(sorted_read, (ACCOUNT,)) for _ in range(3)),
        *(lambda: queries.one(Lookup(sorted_read + " LIMIT 1"), (ACCOUNT,)) for _ in range(3)),
    ]

    alone, waiting = loop.run(_alone_and_waiting(opened, reads))

    assert waiting == alone == [("Other",)] * 6
    assert opened.pool_stats()["read_groups"] == 1
    assert opened.pool_stats()["grouped_reads"] == 3


def test_a_read_waiting_alone_gets_its_own_error(store, caplog):
    """A group of one read runs that read as written: its error is its own, not taken for
    a refusal of grouping (the statement is grouped again when reads wait together)."""
    caplog.set_level(logging.DEBUG, logger="sagemaker_images.store.pg_reads")
    loop, opened = store
    queries = opened.reader.of(IMAGE)._q
    broken = Lookup("SELECT no_such_column FROM images WHERE account = ?")

    alone, waiting = loop.run(_alone_and_waiting(opened, [lambda: queries.one(broken, (ACCOUNT,))]))

    assert alone == waiting == [psycopg.errors.UndefinedColumn]
    assert not [r for r in caplog.records if "not grouped" in r.getMessage()]
