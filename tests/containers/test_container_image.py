"""The image as users run it: published port, environment, volume, restarts, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from typing import Any

import boto3
from botocore.config import Config
from conftest import Containers
from container_support import Podman, wait_for
from support import ROLE, aws_cli

from sagemaker_images.testing import ControlClient


def client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="anything",
        aws_secret_access_key="anything",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )


def in_flight(endpoint: str) -> float:
    """The server's count of calls being answered, from its metrics."""
    with urllib.request.urlopen(endpoint + "/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("sagemaker_images_requests_in_flight "):
                return float(line.split()[1])
    raise AssertionError("no sagemaker_images_requests_in_flight in /metrics")


def test_serves_boto3_and_the_aws_cli_on_its_published_port(containers: Containers) -> None:
    name = containers.start("-e", "SAGEMAKER_IMAGES_TRANSITIONS=immediate")
    endpoint = containers.endpoint(name)
    sm = client(endpoint)
    sm.create_image(ImageName="analytics", RoleArn=ROLE)
    sm.create_image_version(
        ImageName="analytics", BaseImage="registry.example/analytics:1", Aliases=["stable"]
    )
    version = sm.describe_image_version(ImageName="analytics", Alias="stable")
    assert (version["Version"], version["ImageVersionStatus"]) == (1, "CREATED")
    cli = aws_cli(endpoint, "us-east-1", "describe-image", "--image-name", "analytics")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["ImageStatus"] == "CREATED"


def test_every_setting_is_its_environment_variable(containers: Containers) -> None:
    name = containers.start(
        "-e", "SAGEMAKER_IMAGES_ACCOUNT_ID=111122223333", "-e", "SAGEMAKER_IMAGES_MAX_IMAGES=1"
    )
    sm = client(containers.endpoint(name))
    arn = sm.create_image(ImageName="first", RoleArn=ROLE)["ImageArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:111122223333:image/first"
    try:
        sm.create_image(ImageName="second", RoleArn=ROLE)
    except sm.exceptions.ResourceLimitExceeded:
        pass
    else:
        raise AssertionError("SAGEMAKER_IMAGES_MAX_IMAGES=1 admitted a second image")


def test_keeps_its_catalog_on_its_volume_across_restarts(
    containers: Containers, podman: Podman
) -> None:
    volume = containers.volume()
    manual = ("-v", f"{volume}:/data", "-e", "SAGEMAKER_IMAGES_TRANSITIONS=manual")
    first = containers.start(*manual, "-e", "SAGEMAKER_IMAGES_CONTROL_API=1")
    sm = client(containers.endpoint(first))
    sm.create_image(ImageName="kept", RoleArn=ROLE)
    ControlClient(containers.endpoint(first)).complete()
    sm.create_image_version(ImageName="kept", BaseImage="registry.example/kept:1")

    # The same container, restarted: the version's transition is still pending, and ends
    # when completed.
    podman.run("restart", "--time", "10", first)
    containers.wait_healthy(first)
    sm = client(containers.endpoint(first))
    assert sm.describe_image_version(ImageName="kept")["ImageVersionStatus"] == "CREATING"
    ControlClient(containers.endpoint(first)).complete()
    assert sm.describe_image_version(ImageName="kept")["ImageVersionStatus"] == "CREATED"

    # A new container on the same volume: the same catalog.
    podman.run("stop", "--time", "10", first)
    second = containers.start(*manual)
    sm = client(containers.endpoint(second))
    assert [i["ImageName"] for i in sm.list_images()["Images"]] == ["kept"]
    assert sm.describe_image_version(ImageName="kept")["BaseImage"] == "registry.example/kept:1"
    # The catalog's tools run beside the server, as docs/containers.md shows.
    exported = podman.run("exec", second, "sagemaker-images", "export").stdout
    assert '"kept"' in exported


def test_sigterm_lets_a_call_in_flight_finish_then_exits_0_within_10_s(
    containers: Containers, podman: Podman
) -> None:
    name = containers.start("-e", "SAGEMAKER_IMAGES_CONTROL_API=1")
    endpoint = containers.endpoint(name)
    request = urllib.request.Request(
        endpoint + "/_sagemaker-images/faults",
        data=json.dumps({"operation": "ListImages", "latency_ms": 2000}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    answered: list[Any] = []
    call = threading.Thread(target=lambda: answered.append(client(endpoint).list_images()))
    call.start()
    wait_for(lambda: in_flight(endpoint) == 1, "the slow ListImages in flight")

    started = time.monotonic()
    podman.run("stop", "--time", "10", name)  # SIGTERM; SIGKILL after 10 s
    stopped_in = time.monotonic() - started
    call.join(30)

    assert answered and answered[0]["Images"] == [], "the call in flight was not answered"
    assert podman.inspect(name, "{{.State.ExitCode}}") == "0", containers.logs(name)
    assert stopped_in < 10, f"stopped after {stopped_in:.1f} s: SIGTERM was not enough"
    assert "signal 15 received: shutting down" in containers.logs(name)


def test_runs_as_a_user_that_is_not_root(containers: Containers, podman: Podman) -> None:
    name = containers.start()
    assert podman.run("exec", name, "id", "-u").stdout.strip() == "10001"
    assert podman.inspect(name, "{{.Config.User}}") == "10001:10001"


def test_its_health_check_probes_healthz(containers: Containers, podman: Podman) -> None:
    name = containers.start()
    test = json.loads(podman.inspect(name, "{{json .Config.Healthcheck.Test}}"))
    assert test[0] == "CMD" and "/healthz" in test[-1]
    assert podman.healthy(name)
    # A server that stopped answering (stopped from the host: its namespace's PID 1 ignores
    # SIGSTOP from inside).
    server = int(podman.inspect(name, "{{.State.Pid}}"))
    os.kill(server, signal.SIGSTOP)
    try:
        assert not podman.healthy(name)
    finally:
        os.kill(server, signal.SIGCONT)


def test_declares_its_volume_port_labels_and_entrypoint(
    podman: Podman, image: str, pyproject_version: str
) -> None:
    config = json.loads(podman.output("image", "inspect", image, "--format", "{{json .Config}}"))
    assert list(config["Volumes"]) == ["/data"]
    assert list(config["ExposedPorts"]) == ["8080/tcp"]
    assert config["Entrypoint"] == ["sagemaker-images"] and config["Cmd"] == ["serve"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == pyproject_version
    for label in ("source", "licenses", "revision"):
        assert labels[f"org.opencontainers.image.{label}"], label
    environment = dict(variable.split("=", 1) for variable in config["Env"])
    assert environment["SAGEMAKER_IMAGES_DATABASE"] == "sqlite:////data/catalog.db"
    assert environment["SAGEMAKER_IMAGES_HOST"] == "0.0.0.0"
