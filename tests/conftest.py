"""Shared fixtures: servers started once per session, and a fresh region per test.

Every test gets a client signed for a region of its own, so tests share a server yet never
see each other's images (the region comes from the request's credential scope).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ServerProcess

_regions = itertools.count(1)

# Fast enough that tests rarely wait, slow enough that CREATING is observable.
TRANSITION_SECONDS = "0.3"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("server"),
        args=["--transition-seconds", TRANSITION_SECONDS, "--max-images", "5000"],
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Transitions that take long enough to act on an image or version while it is busy."""
    process = ServerProcess(
        tmp_path_factory.mktemp("slow-server"), args=["--transition-seconds", "30"]
    ).start()
    yield process
    process.stop()


@pytest.fixture
def region() -> str:
    return f"us-test-{next(_regions)}"


@pytest.fixture
def sm(server: ServerProcess, region: str) -> Any:
    return server.client(region)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers with their own flags; all are stopped after the test."""
    started: list[ServerProcess] = []
    counter = itertools.count()

    def make(*args: str, **kwargs: Any) -> ServerProcess:
        process = ServerProcess(tmp_path / f"server-{next(counter)}", args=args, **kwargs)
        started.append(process)
        return process.start()

    yield make
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.kill()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """SigV4 on: the keys of auth_support.ALL_KEYS (two accounts, one with a session token)."""
    from auth_support import ALL_KEYS, write_credentials

    workdir = tmp_path_factory.mktemp("auth-server")
    credentials = write_credentials(workdir / "credentials.toml", ALL_KEYS)
    process = ServerProcess(
        workdir,
        args=["--transition-seconds", TRANSITION_SECONDS, "--credentials", str(credentials)],
    ).start()
    yield process
    process.stop()
