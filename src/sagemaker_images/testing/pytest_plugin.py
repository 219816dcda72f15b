"""The pytest plugin, registered on install (entry point `pytest11`): fixtures for tests
of code that calls SageMaker's image catalog.

    def test_my_pipeline(sagemaker_client):
        sagemaker_client.create_image(ImageName="x", RoleArn="arn:aws:iam::123456789012:role/r")

- `sagemaker_images_server` (session): the server, started once per run (in-process), or
  an external one named by `--sagemaker-images-endpoint URL` (it must serve the control
  API: `serve --control-api`).
- `sagemaker_images` (function): a server with an empty catalog, and the environment set
  so that an unmodified `boto3.client("sagemaker")` calls it; put back afterwards.
- `sagemaker_client`: a boto3 SageMaker client of it.
- `sagemaker_events`: the state-change events the test caused so far, oldest first, as
  EventBridge delivers them: `sagemaker_events()`, or `sagemaker_events("SageMaker Image
  Version State Change")` for one detail-type.

Settings come from the ini file (`[tool.pytest.ini_options]`, `pytest.ini`), and for one
test from its marker, which wins:

    sagemaker_images_transitions = manual        # immediate (default), seconds, or manual
    sagemaker_images_account = 111122223333      # the account of the server's ARNs
    sagemaker_images_region = eu-west-1          # the clients' region
    sagemaker_images_retry_waits = 0             # botocore's waits between retries, scaled
    sagemaker_images_endpoint = http://host:8080 # a server of your own (--control-api)
    sagemaker_images_database = postgresql://... # the in-process server's database

    @pytest.mark.sagemaker_images(transitions="manual", faults=[{"operation": ...}])

An in-process server is started for each combination of transitions and account that
tests ask for, once per run. Nothing here is imported before a fixture is used, so the
plugin costs a run that does not use it nothing.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

MARKER = "sagemaker_images"
DEFAULT_REGION = "us-east-1"
_MARKED = ("transitions", "account", "region", "faults", "retry_waits")
_INI = {
    "transitions": "how CREATING, UPDATING and DELETING end in the in-process server:"
    " immediate (the default), a number of seconds, or manual (the control API ends them)",
    "account": "the account of the in-process server's ARNs (default 123456789012)",
    "region": "the region of sagemaker_client and, for an unmodified boto3 client, of the"
    " environment (default: the environment's own, else us-east-1)",
    "retry_waits": "botocore's waits between retries in a test, scaled: 1 as they are (the"
    " default), 0 none, so that tests of faults the SDK retries run at once",
    "endpoint": "use the sagemaker-images server at this URL (served with --control-api)"
    " instead of starting one in-process",
    "database": "database URL of the in-process server (default: a temporary SQLite catalog)",
}


@dataclass(frozen=True)
class Wanted:
    """What a test asks of the fixtures (defaults < ini file < command line < marker)."""

    transitions: str = "immediate"
    account: str = "123456789012"
    region: str | None = None
    retry_waits: float = 1.0
    faults: tuple[dict[str, Any], ...] = field(default=())
    endpoint: str | None = None
    database: str | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sagemaker-images")
    group.addoption("--sagemaker-images-endpoint", default=None, help=_INI["endpoint"] + ".")
    group.addoption("--sagemaker-images-database", default=None, help=_INI["database"] + ".")
    for name, help_text in _INI.items():
        parser.addini(f"sagemaker_images_{name}", help_text)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(transitions=, account=, region=, faults=[...], retry_waits=): settings of"
        " the sagemaker-images fixtures for this test (see the ini options)",
    )


def _from_config(config: pytest.Config) -> Wanted:
    def ini(name: str) -> str | None:
        value = config.getini(f"sagemaker_images_{name}")
        return str(value).strip() or None if value else None

    wanted = Wanted()
    found = {name: ini(name) for name in _INI}
    endpoint = config.getoption("--sagemaker-images-endpoint") or found["endpoint"]
    database = config.getoption("--sagemaker-images-database") or found["database"]
    return replace(
        wanted,
        transitions=found["transitions"] or wanted.transitions,
        account=found["account"] or wanted.account,
        region=found["region"],
        retry_waits=_scale(found["retry_waits"] or wanted.retry_waits),
        endpoint=endpoint,
        database=database,
    )


def _for_test(base: Wanted, node: pytest.Item) -> Wanted:
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return base
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keywords only: {_MARKED}")
    unknown = sorted(set(marker.kwargs) - set(_MARKED))
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown {unknown}; known: {_MARKED}")
    given = dict(marker.kwargs)
    if "retry_waits" in given:
        given["retry_waits"] = _scale(given["retry_waits"])
    if "faults" in given:
        given["faults"] = tuple(given["faults"])
    return replace(base, **given)


def _scale(value: Any) -> float:
    try:
        scale = float(value)
    except (TypeError, ValueError):
        scale = -1.0
    if scale < 0:
        raise pytest.UsageError(
            f"sagemaker_images retry_waits must be a number >= 0, not {value!r}"
        )
    return scale


class _Servers:
    """The run's servers: in-process ones by (transitions, account), each started on first
    use; or the external one, whose settings are its own."""

    def __init__(self, base: Wanted) -> None:
        self.base = base
        self._started: dict[tuple[str, str], Any] = {}
        self._external: Any = None

    def get(self, wanted: Wanted) -> Any:
        if wanted.endpoint:
            if (wanted.transitions, wanted.account) != (self.base.transitions, self.base.account):
                raise pytest.UsageError(
                    f"the server at {wanted.endpoint} runs with its own transitions and account:"
                    " a test's marker cannot change them (start it with the settings you want,"
                    " or drop --sagemaker-images-endpoint)"
                )
            if self._external is None:
                self._external = _external(wanted.endpoint)
            return self._external
        key = (wanted.transitions, wanted.account)
        server = self._started.get(key)
        if server is None:
            from sagemaker_images.testing.server import SageMakerImagesServer

            database = wanted.database if not self._started else None  # one per database
            server = SageMakerImagesServer(
                database=database, transitions=wanted.transitions, account_id=wanted.account
            ).start()
            self._started[key] = server
        return server

    def stop(self) -> None:
        for server in self._started.values():
            server.stop()


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
def _sagemaker_images_servers(request: pytest.FixtureRequest) -> Iterator[_Servers]:
    servers = _Servers(_from_config(request.config))
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def sagemaker_images_server(_sagemaker_images_servers: _Servers) -> Any:
    """The sagemaker-images server of this run, with the ini file's settings: started
    in-process once, or the one `--sagemaker-images-endpoint` names. It is not reset: use
    `sagemaker_images` for a test's own empty catalog."""
    return _sagemaker_images_servers.get(_sagemaker_images_servers.base)


@pytest.fixture
def sagemaker_images(
    _sagemaker_images_servers: _Servers, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A sagemaker-images server for this test, its catalog empty and the faults its
    marker names in force; the environment set so that an unmodified
    `boto3.client("sagemaker")` calls it (endpoint, test credentials, region), and botocore's
    waits between retries scaled (`retry_waits`); all put back afterwards. Its methods:
    `client()`, `reset()`, `complete(arn, fail)`, `faults(...)`, `clear_faults()`."""
    from sagemaker_images.testing.mock import client_environment

    wanted = _for_test(_sagemaker_images_servers.base, request.node)
    server = _sagemaker_images_servers.get(wanted)
    server.reset()
    if wanted.faults:
        server.faults(*wanted.faults)
    environment = client_environment(
        server.endpoint_url, wanted.region or DEFAULT_REGION, force_region=wanted.region is not None
    )
    environment.apply()
    waits = _scaled_retry_waits(wanted.retry_waits)
    try:
        yield server
    finally:
        waits.restore()
        environment.restore()


@pytest.fixture
def sagemaker_client(
    sagemaker_images: Any, _sagemaker_images_servers: _Servers, request: pytest.FixtureRequest
) -> Any:
    """A boto3 SageMaker client of the test's server, in the test's region."""
    wanted = _for_test(_sagemaker_images_servers.base, request.node)
    return sagemaker_images.client(region_name=wanted.region or DEFAULT_REGION)


@pytest.fixture
def sagemaker_events(sagemaker_images: Any) -> Any:
    """A function answering the image and image version state-change events this test
    caused so far, oldest first, in EventBridge's envelope (those of one detail-type, if
    named): what a rule on the events would have seen."""
    return sagemaker_images.events


class _RetryWaits:
    def __init__(self, original: Any) -> None:
        self._original = original

    def restore(self) -> None:
        if self._original is not None:
            import botocore.endpoint

            botocore.endpoint.time = self._original


def _scaled_retry_waits(scale: float) -> _RetryWaits:
    """botocore sleeps between retries in `botocore.endpoint` (`time.sleep(delay)`): there,
    for the test, a sleep of `scale` times the delay."""
    if scale == 1:
        return _RetryWaits(None)
    import time

    import botocore.endpoint

    original = botocore.endpoint.time
    scaled = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time)})
    scaled.sleep = lambda seconds: time.sleep(seconds * scale)
    botocore.endpoint.time = scaled
    return _RetryWaits(original)
