"""compose.yaml brought up with podman-compose: PostgreSQL, two servers sharing its
catalog, one on SQLite with a catalog of its own. podman 4.3 cannot wait on health checks,
so the test does what `depends_on: condition: service_healthy` does for Docker: it starts
PostgreSQL, runs its health check (compose.yaml's own) until it passes, then the rest."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import unique
from container_support import ROOT, Podman, container_blocks, wait_for
from support import ROLE, healthy

PODMAN_COMPOSE = str(Path(sys.executable).with_name("podman-compose"))
# compose.yaml's published ports.
PORTS = {"catalog-a": 8081, "catalog-b": 8082, "standalone": 8083}


def client(port: int) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="anything",
        aws_secret_access_key="anything",
    )


def taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack(podman: Podman, image: str) -> Iterator[Podman]:
    busy = [port for port in PORTS.values() if taken(port)]
    if busy:
        pytest.fail(f"compose.yaml publishes {busy}, which something here already listens on")
    podman.postgres()
    project = unique("smi-compose")

    def compose(*args: str) -> None:
        podman.run(
            "--project-name", project, "--file", str(ROOT / "compose.yaml"), *args,
            program=PODMAN_COMPOSE, timeout=300,
        )  # fmt: skip

    def container(service: str) -> str:
        return podman.output(
            "ps", "--all", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={project}",
            "--filter", f"label=com.docker.compose.service={service}",
        )  # fmt: skip

    try:
        compose("up", "--detach", "postgres")
        postgres = container("postgres")
        wait_for(lambda: podman.healthy(postgres), "PostgreSQL's health check")
        compose("up", "--detach")
        for service, port in PORTS.items():
            name = container(service)
            wait_for(
                lambda name=name, port=port: (
                    healthy(f"http://127.0.0.1:{port}") and podman.healthy(name)
                ),
                f"{service}'s health check",
            )
        yield podman
    finally:
        ids = podman.output(
            "ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={project}"
        ).split()
        # The image's /data of the servers on PostgreSQL: anonymous volumes, which `down -v`
        # of podman-compose leaves.
        anonymous = [
            volume
            for id_ in ids
            for volume in podman.inspect(
                id_, '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}} {{end}}{{end}}'
            ).split()
        ]
        compose("down", "--volumes")
        if anonymous:
            podman.run("volume", "rm", "--force", *anonymous, check=False)


def test_two_servers_on_postgresql_share_one_catalog(stack: Podman) -> None:
    a, b = client(PORTS["catalog-a"]), client(PORTS["catalog-b"])
    a.create_image(ImageName="shared-by-two", RoleArn=ROLE)
    b.get_waiter("image_created").wait(ImageName="shared-by-two", WaiterConfig={"Delay": 0.5})
    a.create_image_version(ImageName="shared-by-two", BaseImage="registry.example/two:1")
    described = b.describe_image_version(ImageName="shared-by-two", Version=1)
    assert described["BaseImage"] == "registry.example/two:1"
    b.get_waiter("image_version_created").wait(
        ImageName="shared-by-two", Version=1, WaiterConfig={"Delay": 0.5}
    )
    assert a.describe_image_version(ImageName="shared-by-two")["ImageVersionStatus"] == "CREATED"


def test_the_server_on_sqlite_has_a_catalog_of_its_own(stack: Podman) -> None:
    a, standalone = client(PORTS["catalog-a"]), client(PORTS["standalone"])
    standalone.create_image(ImageName="only-on-sqlite", RoleArn=ROLE)
    a.create_image(ImageName="only-on-postgresql", RoleArn=ROLE)
    names = {i["ImageName"] for i in standalone.list_images()["Images"]}
    assert "only-on-sqlite" in names and "only-on-postgresql" not in names
    with pytest.raises(a.exceptions.ResourceNotFound):
        a.describe_image(ImageName="only-on-sqlite")


COMPOSE_EXAMPLES = [
    pytest.param(code, id=where)
    for where, language, code in container_blocks()
    if language == "python" and "127.0.0.1:{port}" in code
]


@pytest.mark.parametrize("code", COMPOSE_EXAMPLES)
def test_the_docs_compose_examples_run(stack: Podman, code: str, tmp_path: Path) -> None:
    (tmp_path / "example.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "CREATED", result.stdout
