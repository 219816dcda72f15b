"""The pytest plugin, registered on install (entry point `pytest11`): fixtures for tests
of code that calls SageMaker's image catalog.

    def test_my_pipeline(sagemaker_client):
        sagemaker_client.create_image(ImageName="x", RoleArn="arn:aws:iam::123456789012:role/r")

- `sagemaker_images_server` (session): the server, started once per run (in-process), or
  an external one named by `--sagemaker-images-endpoint URL` (it must serve the control
  API: `serve --control-api`).
- `sagemaker_images` (function): that server with an empty catalog, and the environment
  set so that an unmodified `boto3.client("sagemaker")` calls it; put back afterwards.
- `sagemaker_client`: a boto3 SageMaker client of it.

Nothing here is imported before a fixture is used, so the plugin costs a run that does not
use it nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sagemaker-images")
    group.addoption(
        "--sagemaker-images-endpoint",
        default=None,
        help="Use the sagemaker-images server at this URL (served with --control-api) "
        "instead of starting one in-process.",
    )
    group.addoption(
        "--sagemaker-images-database",
        default=None,
        help="Database URL of the in-process server (default: a temporary SQLite catalog).",
    )


def _external(endpoint_url: str) -> Any:
    """A server someone else runs, used through its control API."""
    from sagemaker_images.testing.control import ControlClient, Controlled

    class ExternalServer(Controlled):
        def __init__(self) -> None:
            self._control = ControlClient(endpoint_url)
            self._control.health()  # fails at once if it serves no control API

        @property
        def endpoint_url(self) -> str:
            return self._control.endpoint_url

        @property
        def control(self) -> ControlClient:
            return self._control

    return ExternalServer()


@pytest.fixture(scope="session")
def sagemaker_images_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    endpoint = request.config.getoption("--sagemaker-images-endpoint")
    if endpoint:
        yield _external(endpoint)
        return
    from sagemaker_images.testing.server import SageMakerImagesServer

    server = SageMakerImagesServer(database=request.config.getoption("--sagemaker-images-database"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sagemaker_images(sagemaker_images_server: Any) -> Iterator[Any]:
    from sagemaker_images.testing.mock import client_environment

    sagemaker_images_server.reset()
    environment = client_environment(sagemaker_images_server.endpoint_url)
    environment.apply()
    try:
        yield sagemaker_images_server
    finally:
        environment.restore()


@pytest.fixture
def sagemaker_client(sagemaker_images: Any) -> Any:
    return sagemaker_images.client()
