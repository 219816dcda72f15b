"""What only the SQLite store does: the server lock, rows kept between commits, and WAL
checkpoints that keep the log from growing without bound."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from inprocess import LoopThread
from support import image_record

from sagemaker_images.config import Settings
from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.resources.records import ImageRecord
from sagemaker_images.store import DatabaseInUse, Store, open_store
from sagemaker_images.store.sqlite import SqliteStore

pytestmark = pytest.mark.backends("sqlite")
ACCOUNT, REGION = "123456789012", "us-east-1"


def image(name: str) -> ImageRecord:
    return image_record(name, account=ACCOUNT, region=REGION, name_key=name, at=1)


@pytest.fixture
def loop():
    thread = LoopThread()
    yield thread
    thread.close()


def serving(loop: LoopThread, path: Path) -> Store:
    return loop.run(open_store(Settings(database_url=f"sqlite:///{path}"), serving=True))


def rows_in_main_file(path: Path) -> int:
    """Images in the database file itself, ignoring the WAL: what checkpoints have copied.
    Read as immutable, the file may be caught mid-checkpoint: read again then."""
    for _ in range(100):
        connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return connection.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        except sqlite3.OperationalError:  # not even the schema has been copied yet
            return 0
        except sqlite3.DatabaseError:  # a page being written as it was read
            time.sleep(0.01)
        finally:
            connection.close()
    raise AssertionError(f"{path} could not be read whole")


def wal_restarts(path: Path) -> int:
    """The WAL header's checkpoint sequence number: it counts the times the log restarted."""
    with path.with_name(path.name + "-wal").open("rb") as wal:
        header = wal.read(16)
    return int.from_bytes(header[12:16], "big")


def test_one_serving_store_per_file(loop, tmp_path, backend):
    path = tmp_path / "catalog.db"
    store = serving(loop, path)
    try:
        with pytest.raises(DatabaseInUse, match="another server is already serving"):
            serving(loop, path)
        # Tools that only read or migrate (drift, migrate) open it beside the server.
        beside = loop.run(open_store(Settings(database_url=f"sqlite:///{path}")))
        loop.run(beside.close())
    finally:
        loop.run(store.close())
    loop.run(serving(loop, path).close())  # the lock went with the store


def test_rows_kept_between_commits_are_forgotten_at_each_commit(loop, tmp_path, backend):
    store = serving(loop, tmp_path / "catalog.db")

    async def scenario() -> None:
        async with store.transaction() as tx:
            image_id = await tx.of(IMAGE).insert(image("kept"))
        before = await store.reader.of(IMAGE).find(ACCOUNT, REGION, "kept")
        assert before is not None and before.description is None
        async with store.transaction() as tx:
            await tx.of(IMAGE).update(image_id, description="changed")
        after = await store.reader.of(IMAGE).find(ACCOUNT, REGION, "kept")
        assert after is not None and after.description == "changed"
        await store.close()

    loop.run(scenario())


def checkpointed(store: Store) -> int:
    """Rounds of checkpointing the store has finished."""
    assert isinstance(store, SqliteStore)
    return store.checkpoints


def wait_for_a_round(store: Store, before: int) -> None:
    """Until a round of checkpointing has finished since `before` rounds had. A round ends
    with a pass that holds the write lock, so one that finishes after a commit has copied
    that commit back whole, even if it began before (a loaded machine may take its time)."""
    deadline = time.monotonic() + 60
    while checkpointed(store) <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpointed(store) > before, "no round of checkpointing finished"


def test_an_idle_wal_is_checkpointed_into_the_database(loop, tmp_path, backend):
    path = tmp_path / "catalog.db"
    store = serving(loop, path)

    async def write(count: int, prefix: str) -> tuple[int, int]:
        """Rows in the main file just after the commit, and the rounds of checkpointing
        finished: read before the event loop turns, so no round can run in between."""
        async with store.transaction() as tx:
            for n in range(count):
                await tx.of(IMAGE).insert(image(f"{prefix}-{n}"))
        return rows_in_main_file(path), checkpointed(store)

    try:
        rows, rounds = loop.run(write(200, "first"))
        assert rows < 200  # still in the WAL
        wait_for_a_round(store, rounds)
        assert rows_in_main_file(path) == 200
        restarts = wal_restarts(path)
        # A fully copied WAL is restarted by the next writer, instead of growing on.
        _, rounds = loop.run(write(200, "second"))
        assert wal_restarts(path) == restarts + 1
        wait_for_a_round(store, rounds)
        assert rows_in_main_file(path) == 400
    finally:
        loop.run(store.close())


def test_a_busy_writer_does_not_keep_the_wal_from_restarting(loop, tmp_path, backend):
    """A checkpoint beside a writer that never pauses still completes (its last pass holds
    the write lock), so the log keeps restarting instead of growing for ever."""
    path = tmp_path / "catalog.db"
    store = serving(loop, path)

    async def write_until_restarted(times: int, most_seconds: float) -> tuple[int, int]:
        """Write without pausing until the log has restarted `times` times (or, failing,
        for `most_seconds`): the commits written, and the restarts seen."""
        written = 0
        first = wal_restarts(path)
        until = time.monotonic() + most_seconds
        while wal_restarts(path) - first < times and time.monotonic() < until:
            async with store.transaction() as tx:
                await tx.of(IMAGE).insert(image(f"busy-{written}"))
            written += 1
            await asyncio.sleep(0)  # as requests do between transactions
        return written, wal_restarts(path) - first

    try:
        written, restarts = loop.run(write_until_restarted(2, 120))
    finally:
        loop.run(store.close())
    assert restarts >= 2, (written, restarts)
    # Each restart came after a round of checkpoints, each round at least an interval.
    assert written > 2
