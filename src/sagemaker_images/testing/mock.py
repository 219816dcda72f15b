"""`mock_sagemaker_images`: moto's way of testing, on the real server.

    @mock_sagemaker_images
    def test_images():
        sm = boto3.client("sagemaker")   # unmodified: it talks to sagemaker-images
        ...

It works as a decorator of functions (plain or async) and classes, as a `with` block, and
with `.start()` / `.stop()`. While active, `AWS_ENDPOINT_URL_SAGEMAKER` names a real
server started once per process in the background, and fake credentials and a default
region are set where the environment has none; afterwards the environment is exactly as it
was. Each activation starts from an empty catalog.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os
import threading
import unittest
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sagemaker_images.testing.control import TEST_ACCESS_KEY, TEST_SECRET_KEY, Lifecycle
from sagemaker_images.testing.server import SageMakerImagesServer

T = TypeVar("T")
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_SAGEMAKER"

_shared: SageMakerImagesServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> SageMakerImagesServer:
    """The server every mock of this process uses, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SageMakerImagesServer().start()
            atexit.register(_shared.stop)
        return _shared


class Environment:
    """Variables set for a while, then put back exactly as they were (unset ones unset)."""

    def __init__(self, always: Mapping[str, str], if_unset: Mapping[str, str]) -> None:
        self._always = dict(always)
        self._if_unset = dict(if_unset)
        self._saved: dict[str, str | None] = {}

    def apply(self) -> None:
        changes = dict(self._always)
        changes.update({k: v for k, v in self._if_unset.items() if k not in os.environ})
        self._saved = {name: os.environ.get(name) for name in changes}
        os.environ.update(changes)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}


def client_environment(
    endpoint_url: str, region_name: str = "us-east-1", *, force_region: bool = False
) -> Environment:
    """What makes an unmodified `boto3.client("sagemaker")` call `endpoint_url`: test
    credentials and `region_name` where the environment has none (the region always, with
    `force_region`)."""
    region = {"AWS_DEFAULT_REGION": region_name}
    return Environment(
        {ENDPOINT_VARIABLE: endpoint_url, **(region if force_region else {})},
        {
            "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
            **({} if force_region else region),
        },
    )


class mock_sagemaker_images(Lifecycle):
    def __new__(cls, region_name: Any = "us-east-1") -> Any:
        if callable(region_name):  # used bare, `@mock_sagemaker_images`, on a function or class
            return cls()(region_name)
        return super().__new__(cls)

    def __init__(self, region_name: str = "us-east-1") -> None:
        self.region_name = region_name
        self.server: SageMakerImagesServer | None = None
        self._environment: Environment | None = None

    def start(self) -> SageMakerImagesServer:
        """Activate: an empty catalog, and the environment pointing boto3 at it."""
        if self._environment is not None:
            raise RuntimeError("this mock is active already")
        server = shared_server()
        server.reset()
        self._environment = client_environment(server.endpoint_url, self.region_name)
        self._environment.apply()
        self.server = server
        return server

    def stop(self) -> None:
        if self._environment is not None:
            self._environment.restore()
            self._environment = None

    def __call__(self, target: T) -> T:
        if isinstance(target, type):
            return self._decorate_class(target)  # type: ignore[return-value]
        if callable(target):
            return self._decorate_function(target)  # type: ignore[return-value]
        raise TypeError("mock_sagemaker_images decorates functions and classes")

    def _decorate_function(self, function: Callable[..., Any]) -> Callable[..., Any]:
        region = self.region_name
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with mock_sagemaker_images(region):
                    return await function(*args, **kwargs)

            return run_async

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with mock_sagemaker_images(region):
                return function(*args, **kwargs)

        return run

    def _decorate_class(self, cls: type) -> type:
        """A TestCase is active from setUp to its cleanups (so setUp can make resources);
        any other class has each of its `test*` methods decorated."""
        if issubclass(cls, unittest.TestCase):
            region = self.region_name
            original = cls.setUp

            def set_up(test: unittest.TestCase) -> None:
                active = mock_sagemaker_images(region)
                active.start()
                test.addCleanup(active.stop)
                original(test)

            cls.setUp = set_up  # type: ignore[method-assign,assignment]
            return cls
        for name, member in list(vars(cls).items()):
            if name.startswith("test") and callable(member):
                setattr(cls, name, self._decorate_function(member))
        return cls
