"""End to end: real `sagemaker-images serve` processes on free ports, called over HTTP.

Servers are started once per session and backend (each PostgreSQL one on a fresh
database); every test works in a region of its own, so tests share them safely.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import Databases, ServerProcess

# Fast enough that tests rarely wait, slow enough that CREATING is observable.
TRANSITION_SECONDS = "0.3"
# Test servers keep few connections: many run at once against one PostgreSQL.
POSTGRESQL_ARGS = ("--database-pool-size", "4")


def _server(
    backend: str, databases: Databases, workdir: Path, args: list[str], **kwargs: Any
) -> ServerProcess:
    """A server on `backend`: SQLite in its workdir, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        args = [*POSTGRESQL_ARGS, *args]
        if kwargs.get("database_url") is None:
            kwargs["database_url"] = databases.create()
    return ServerProcess(workdir, args=args, **kwargs)


@pytest.fixture(scope="session")
def server(
    backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    process = _server(
        backend,
        databases,
        tmp_path_factory.mktemp(f"server-{backend}"),
        ["--transitions", TRANSITION_SECONDS, "--max-images", "5000"],
    ).start()
    yield process
    process.stop()


@pytest.fixture
def sm(server: ServerProcess, region: str) -> Any:
    return server.client(region)


@pytest.fixture
def make_server(
    backend: str, databases: Databases, tmp_path: Path
) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers with their own flags (each on a new database unless given
    `database_url`); all are stopped after the test."""
    started: list[ServerProcess] = []
    counter = itertools.count()

    def make(*args: str, **kwargs: Any) -> ServerProcess:
        process = _server(
            backend, databases, tmp_path / f"server-{next(counter)}", list(args), **kwargs
        )
        started.append(process)
        return process.start()

    yield make
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.kill()


@pytest.fixture(scope="session")
def auth_server(
    backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """SigV4 on: the keys of auth_support.ALL_KEYS (two accounts, one with a session token)."""
    from auth_support import ALL_KEYS, write_credentials

    workdir = tmp_path_factory.mktemp(f"auth-server-{backend}")
    credentials = write_credentials(workdir / "credentials.toml", ALL_KEYS)
    process = _server(
        backend,
        databases,
        workdir,
        ["--transitions", TRANSITION_SECONDS, "--credentials", str(credentials)],
    ).start()
    yield process
    process.stop()
