"""What every tier shares: the backends, fresh PostgreSQL databases, a region per test.

Tests that take a `backend` run once per database backend (`[sqlite]`, `[postgresql]`);
`--backend` picks one, and `@pytest.mark.backends("sqlite")` keeps a test to the backends
named. The store's own tests (tests/store) also run on `[postgresql-grouped]`: PostgreSQL
with every lookup and every create taking the grouping path, as calls that arrive together
do under load, so that both paths are exercised on every run. Every server a test starts, in process or not, checks each of its answers against
the model's output shape (`SAGEMAKER_IMAGES_CHECK_RESPONSES`): an answer that does not fit
is a 500 and fails the test.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from support import GROUPED, POSTGRESQL_URL_VARIABLE, Databases

os.environ["SAGEMAKER_IMAGES_CHECK_RESPONSES"] = "1"
pytest_plugins = ("pytester",)

BACKENDS = ("sqlite", "postgresql")
STORE_TIER = os.path.join("tests", "store")
_regions = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("all", *BACKENDS),
        default="all",
        help="Run the server tests against this database backend only (default: all).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run only on these backends")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend")
        backends = BACKENDS if chosen == "all" else (chosen,)
        if "postgresql" in backends and STORE_TIER in str(metafunc.definition.path):
            backends = (*backends, GROUPED)
        only = metafunc.definition.get_closest_marker("backends")
        if only is not None:
            backends = tuple(b for b in backends if b in only.args)
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    """PostgreSQL databases: in the server `SAGEMAKER_IMAGES_TEST_POSTGRESQL` names, else in
    a private cluster started for this run when a test first needs one."""
    made = Databases(os.environ.get(POSTGRESQL_URL_VARIABLE) or None)
    yield made
    made.close()


@pytest.fixture
def region() -> str:
    """A region of the test's own: tests share servers yet never see each other's data."""
    return f"us-test-{next(_regions)}"
