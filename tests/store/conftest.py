"""The store alone, on each backend: no HTTP, no catalog, only its own face.

One store is opened per backend for the session, on an event loop in a thread; each test
writes under an account of its own, so tests share the store without meeting.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from inprocess import LoopThread
from support import Databases, fresh_database, open_test_store

from sagemaker_images.store import Store

T = TypeVar("T")
_accounts = itertools.count(100_000_000_000)


@dataclass
class OpenStore:
    loop: LoopThread
    store: Store
    url: str

    def run(self, scenario: Callable[[Store], Awaitable[T]]) -> T:
        return self.loop.run(scenario(self.store))


@pytest.fixture(scope="session")
def opened(
    backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpenStore]:
    loop = LoopThread()
    url = fresh_database(backend, databases, tmp_path_factory.mktemp("store"))
    store = open_test_store(backend, url, loop)
    yield OpenStore(loop, store, url)
    loop.run(store.close())
    loop.close()


@pytest.fixture
def run(opened: OpenStore) -> Callable[[Callable[[Store], Awaitable[Any]]], Any]:
    """Run `async def scenario(store)` on the session's store and return what it returns."""
    return opened.run


@pytest.fixture
def account() -> str:
    return str(next(_accounts))
