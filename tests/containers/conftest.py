"""The container tier: the image is built once per run (session fixture) and shared; each
test starts the containers it needs and removes them, with their volumes, after."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from container_support import IMAGE, Podman, missing_tools, wait_for
from support import healthy

_names = itertools.count(1)
COMPOSE_TESTS = "test_compose_file.py"


@pytest.fixture(scope="session")
def podman(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Podman]:
    """The engine. When the run has compose tests, PostgreSQL's stand-in is made (if it is
    not kept from an earlier run) meanwhile, while the project's image builds."""
    missing = missing_tools()
    if missing:
        pytest.fail(
            f"the container tier needs {', '.join(missing)}: `make test-tools` installs them"
            f" (apt-get install -y {' '.join(missing)})"
        )
    made = Podman(tmp_path_factory.mktemp("podman"))
    with ThreadPoolExecutor(1) as background:
        if any(item.path.name == COMPOSE_TESTS for item in request.session.items):
            made.postgres_ready = background.submit(made.postgres_stand_in)
        yield made


@pytest.fixture(scope="session")
def image(podman: Podman) -> str:
    """The project's image, built from this checkout by `make image`."""
    podman.build_image()
    return IMAGE


def unique(prefix: str) -> str:
    """A name no other run on this machine uses at once."""
    return f"{prefix}-{os.getpid()}-{next(_names)}"


class Containers:
    """Starts containers of the image for one test; removes them and their volumes after."""

    def __init__(self, podman: Podman, image: str) -> None:
        self.podman = podman
        self.image = image
        self.started: list[str] = []
        self.volumes: list[str] = []

    def volume(self) -> str:
        name = unique("smi-test-data")
        self.podman.run("volume", "create", name)
        self.volumes.append(name)
        return name

    def start(self, *options: str, command: tuple[str, ...] = ()) -> str:
        """`podman run -d -p 127.0.0.1::8080 OPTIONS IMAGE COMMAND`, as a user runs it;
        returns its name once its /healthz answers on the published port."""
        name = unique("smi-test")
        self.started.append(name)
        self.podman.run(
            "run", "-d", "--name", name, "-p", "127.0.0.1::8080", *options, self.image, *command
        )
        self.wait_healthy(name)
        return name

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.podman.host_port(name)}"

    def wait_healthy(self, name: str) -> None:
        def up() -> bool:
            state = self.podman.inspect(name, "{{.State.Status}}")
            assert state == "running", f"{name} is {state}:\n{self.logs(name)}"
            return healthy(self.endpoint(name))

        wait_for(up, f"{name} answering /healthz")

    def logs(self, name: str) -> str:
        result = self.podman.run("logs", name, check=False)
        return result.stdout + result.stderr

    def remove(self) -> None:
        self.podman.remove(*self.started)
        for volume in self.volumes:
            self.podman.run("volume", "rm", "--force", volume, check=False)


@pytest.fixture
def containers(podman: Podman, image: str) -> Iterator[Containers]:
    made = Containers(podman, image)
    yield made
    made.remove()


@pytest.fixture(scope="session")
def pyproject_version() -> str:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    version: str = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    return version
