"""What the container files promise, read from them: the Containerfile's settings are the
server's own variables and its version label is the package's, compose.yaml's servers wait
on PostgreSQL's health and reach it with the credentials it is given, and
SageMakerImagesContainer refuses a setting it cannot pass before asking any engine. The
container tier (tests/containers) builds and runs them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from sagemaker_images.config import environment_variable, flagged

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = (ROOT / "Containerfile").read_text()
VARIABLES = {environment_variable(flag) for _, flag in flagged()}


def variable(name: str) -> str:
    for declared, flag in flagged():
        if declared.name == name:
            return environment_variable(flag)
    raise AssertionError(f"no setting {name}")


def instructions(name: str) -> list[str]:
    """The arguments of every `name` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", CONTAINERFILE)
    return [m.group(1).strip() for m in re.finditer(rf"^{name} (.*)$", joined, re.MULTILINE)]


def test_dockerfile_is_the_containerfile() -> None:
    assert (ROOT / "Dockerfile").is_symlink()
    assert (ROOT / "Dockerfile").resolve() == ROOT / "Containerfile"


def test_the_version_label_is_the_packages() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"VERSION={version}" in instructions("ARG")


def test_both_stages_start_from_the_base_argument() -> None:
    assert any(a.startswith("BASE=") for a in instructions("ARG"))
    assert instructions("FROM") == ["${BASE} AS build", "${BASE}"]


def test_its_environment_names_the_servers_own_settings() -> None:
    environment = dict(pair.split("=", 1) for line in instructions("ENV") for pair in line.split())
    assert environment[variable("host")] == "0.0.0.0"
    assert environment[variable("port")] == "8080"
    assert environment[variable("database_url")] == "sqlite:////data/catalog.db"
    assert instructions("VOLUME") == ['["/data"]']
    assert instructions("EXPOSE") == ["8080"]


def test_it_runs_as_a_numbered_user_that_is_not_root() -> None:
    (user,) = instructions("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0


def test_the_server_is_pid_1_and_its_health_is_healthz() -> None:
    assert instructions("ENTRYPOINT") == ['["sagemaker-images"]']  # exec form: no shell
    assert instructions("CMD") == ['["serve"]']
    (check,) = instructions("HEALTHCHECK")
    assert "CMD [" in check and "/healthz" in check


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_servers_wait_for_postgresql_health_and_reach_it() -> None:
    services = compose()["services"]
    postgres = services["postgres"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    credentials = postgres["environment"]
    on_postgresql = [s for s in services.values() if "depends_on" in s]
    assert len(on_postgresql) == 2
    for service in on_postgresql:
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        url = urlsplit(service["environment"][variable("database_url")])
        assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
        assert url.username == credentials["POSTGRES_USER"]
        assert url.password == credentials["POSTGRES_PASSWORD"]
        assert url.path == "/" + credentials["POSTGRES_DB"]


def test_compose_servers_are_the_image_and_name_only_settings() -> None:
    services = compose()["services"]
    servers = {name: s for name, s in services.items() if name != "postgres"}
    assert len(servers) == 3
    published = set()
    for service in servers.values():
        assert service["image"] == "sagemaker-images:latest"
        assert service["build"]["dockerfile"] == "Containerfile"
        assert set(service["environment"]) <= VARIABLES
        published.update(port.rsplit(":", 1)[0] for port in service["ports"])
    assert len(published) == 3
    (standalone,) = [s for s in servers.values() if "depends_on" not in s]
    assert variable("database_url") not in standalone["environment"]  # SQLite under /data
    assert standalone["volumes"] == ["standalone-data:/data"]


def test_the_container_refuses_what_it_cannot_pass_before_asking_an_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sagemaker_images.testing.containers import SageMakerImagesContainer

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(TypeError, match="'colour' is not a setting"):
        SageMakerImagesContainer(colour="blue")
    with pytest.raises(TypeError, match=r"always serves 0\.0\.0\.0:8080"):
        SageMakerImagesContainer(port=9000)
    with pytest.raises(ValueError, match="not immediate, manual or a number"):
        SageMakerImagesContainer(transitions="soon")
