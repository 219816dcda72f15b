"""In process: the real application on an event loop of its own, driven without sockets.

Apps are started once per session and backend; each test works in a region of its own.
`server` finishes transitions at once (its worker runs as soon as a change commits);
`paced_server` takes 0.2 s, so CREATING and UPDATING can be seen and then seen to end;
`slow_server` takes 30 s, for calls made while a resource is busy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from inprocess import InProcessApp
from support import Databases, fresh_database

from sagemaker_images.config import Settings


@pytest.fixture
def make_app(
    backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., InProcessApp]]:
    """Start apps with settings of their own (on a new database unless one is given) and,
    if given, a clock of their own; all are stopped after the test."""
    started: list[InProcessApp] = []

    def make(clock: Callable[[], int] | None = None, **settings: Any) -> InProcessApp:
        settings.setdefault(
            "database_url", fresh_database(backend, databases, tmp_path_factory.mktemp("app"))
        )
        settings.setdefault("database_pool_size", 4)
        settings.setdefault("access_log", False)
        app = InProcessApp(Settings(**settings), clock).start()
        started.append(app)
        return app

    yield make
    for app in started:
        app.stop()


def _session_app(
    backend: str, databases: Databases, factory: pytest.TempPathFactory, **settings: Any
) -> InProcessApp:
    database = fresh_database(backend, databases, factory.mktemp(f"app-{backend}"))
    return InProcessApp(
        Settings(
            database_url=database,
            database_pool_size=4,
            max_images=5000,
            access_log=False,
            **settings,
        )
    ).start()


def _session_fixture(**settings: Any) -> Any:
    """A session fixture: an app per backend with these settings, stopped at the end."""

    @pytest.fixture(scope="session")
    def fixture(
        backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[InProcessApp]:
        app = _session_app(backend, databases, tmp_path_factory, **settings)
        yield app
        app.stop()

    return fixture


server = _session_fixture(transitions="immediate")
paced_server = _session_fixture(transitions="0.2")
slow_server = _session_fixture(transitions="30")


@pytest.fixture(scope="session")
def auth_server(
    backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessApp]:
    """SigV4 on: the keys of auth_support.ALL_KEYS (two accounts, one with a session token)."""
    from auth_support import ALL_KEYS, write_credentials

    workdir = tmp_path_factory.mktemp(f"auth-app-{backend}")
    credentials = write_credentials(workdir / "credentials.toml", ALL_KEYS)
    app = _session_app(
        backend,
        databases,
        tmp_path_factory,
        transitions="0",
        credentials_file=str(credentials),
    )
    yield app
    app.stop()


@pytest.fixture
def sm(server: InProcessApp, region: str) -> Any:
    return server.client(region)


@pytest.fixture
def paced(paced_server: InProcessApp, region: str) -> Any:
    """A client of the app whose transitions take 0.2 s."""
    return paced_server.client(region)
