"""sagemaker-images as a Testcontainers container: `SageMakerImagesContainer`.

The server runs from its container image (built from the repository's Containerfile), so a
test suite needs no Python install of the package beside it, only a Docker-compatible
engine. Needs the `containers` extra (testcontainers-python):

    pip install 'sagemaker-images[containers]'

    with SageMakerImagesContainer(transitions="manual") as catalog:
        sm = catalog.get_client()
        sm.create_image(ImageName="base", RoleArn="arn:aws:iam::123456789012:role/r")
        catalog.complete()
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from sagemaker_images.config import Settings, environment_variable, parse_transitions
from sagemaker_images.testing.control import ControlClient, Controlled

# The tag `make image` (and the documented build command) gives the image.
DEFAULT_IMAGE = "sagemaker-images:latest"
PORT = 8080
# A first start of a fresh catalog migrates it: seconds on a slow machine, never minutes.
START_TIMEOUT_SECONDS = 120


def _environment_variables() -> dict[str, str]:
    """Each setting that has a flag, by its Python name: its environment variable."""
    found = {}
    for declared in fields(Settings):
        flag = declared.metadata.get("flag")
        if flag is not None:
            found[declared.name] = environment_variable(flag)
    return found


Setting = str | int | float | bool | tuple[str, ...] | list[str]


def _text(value: Setting) -> str:
    if isinstance(value, bool):  # click reads 1/0 for a switch
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):  # a repeatable flag: its values apart by spaces
        return " ".join(value)
    return str(value)


class SageMakerImagesContainer(Controlled, DockerContainer):
    """`SageMakerImagesContainer(image="sagemaker-images:latest", transitions="immediate",
    account_id=None, control_api=True, **settings)`

    Starts the image, waits until `GET /healthz` answers 200 on its mapped port, and offers
    `endpoint_url`, `get_client()` (a boto3 SageMaker client of it) and, with the control
    API on, `reset()`, `complete()` and `faults()`. `transitions`: "immediate" (the default
    here, so tests need no waiters), a number of seconds, or "manual". `settings`: any other
    setting of `sagemaker-images serve` by its Python name (`max_images=10`,
    `default_region="eu-west-1"`), passed as its `SAGEMAKER_IMAGES_*` variable.
    """

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        transitions: str | float = "immediate",
        account_id: str | None = None,
        control_api: bool = True,
        region_name: str = "us-east-1",
        **settings: Setting,
    ) -> None:
        transitions = str(transitions)
        parse_transitions(transitions)  # a bad value fails here, not in the container
        given: dict[str, Setting] = {
            "transitions": transitions,
            "control_api": control_api,
            **settings,
        }
        if account_id is not None:
            given["account_id"] = account_id
        variables = _environment_variables()
        environment = {}
        for name, value in given.items():  # checked before the engine is asked anything
            if name in {"host", "port"}:
                raise TypeError(f"{name}: the container always serves 0.0.0.0:{PORT}")
            if name not in variables:
                raise TypeError(f"{name!r} is not a setting of sagemaker-images serve")
            environment[variables[name]] = _text(value)
        super().__init__(image, env=environment)
        self.region_name = region_name
        self.control_api = control_api
        self.with_exposed_ports(PORT)
        self.waiting_for(
            HttpWaitStrategy(PORT, "/healthz")
            .for_status_code(200)
            .with_startup_timeout(START_TIMEOUT_SECONDS)
        )

    @property
    def endpoint_url(self) -> str:
        """The server's URL from this process: the engine's host and the mapped port."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    @property
    def control(self) -> ControlClient:
        if not self.control_api:
            raise RuntimeError("started with control_api=False: it serves no control API")
        return ControlClient(self.endpoint_url, region_name=self.region_name)

    def get_client(self, region_name: str | None = None, **options: Any) -> Any:
        """A boto3 SageMaker client of the server (test keys, this container's region
        unless given), as Testcontainers' modules name it."""
        return self.client(region_name or self.region_name, **options)
