"""Test helpers: a real server process on a free port, boto3 clients, raw HTTP calls."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from postgresql_support import PrivateCluster

T = TypeVar("T")

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ACCESS_KEY = "AKIDEXAMPLETEST00001"
SECRET_KEY = "test-secret-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_session = botocore.session.get_session()  # one session: clients share its loaded models
_session_lock = threading.Lock()


class Server:
    """What tests call a server through, whether it runs in a process or in this one."""

    endpoint: str

    def client(
        self,
        region: str = "us-east-1",
        *,
        access_key_id: str = ACCESS_KEY,
        secret_access_key: str = SECRET_KEY,
        session_token: str | None = None,
        **config: Any,
    ) -> Any:
        """A boto3 client of this server, signing with the given key."""
        config.setdefault("retries", {"mode": "standard", "total_max_attempts": 1})
        with _session_lock:
            return _session.create_client(
                "sagemaker",
                endpoint_url=self.endpoint,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                aws_session_token=session_token,
                config=Config(**config),
            )

    def request(
        self,
        method: str,
        raw_path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request as it is: (status, lower-cased headers, body)."""
        raise NotImplementedError

    def raw(
        self,
        target: str | None,
        body: bytes | str | dict[str, Any],
        *,
        region: str = "us-east-1",
        method: str = "POST",
        path: str = "/",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One call without any SDK in between: (status, headers, decoded JSON body)."""
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        sent = {
            "Host": "sagemaker-images.test",
            "Content-Type": "application/x-amz-json-1.1",
            "Content-Length": str(len(body)),
            "Authorization": unsigned_authorization(region),
        }
        if target is not None:
            sent["X-Amz-Target"] = target
        sent.update(headers or {})
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent.items() if v]
        status, received, payload = self.request(method, path.encode(), b"", encoded, body)
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = payload
        return status, received, decoded


class ServerProcess(Server):
    """`sagemaker-images serve` in a child process, as a user would run it."""

    def __init__(
        self,
        workdir: Path,
        *,
        args: Sequence[str] = (),
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        program: Sequence[str] = (sys.executable, "-m", "sagemaker_images"),
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.program = list(program)
        self.workdir = workdir
        self.port = free_port()
        self.database_url = database_url or f"sqlite:///{workdir / 'catalog.db'}"
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            *self.program,
            "serve",
            "--port",
            str(self.port),
            "--database",
            self.database_url,
            *self.args,
        ]

    def start(self, timeout: float = 30) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.env
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            if healthy(self.endpoint):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        """Whatever happened, no process outlives the test (one already stopped stays so)."""
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def request(
        self,
        method: str,
        raw_path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            target = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name.decode("latin-1"), value.decode("latin-1"))
            connection.endheaders(body)
            response = connection.getresponse()
            payload = response.read()
            received = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        return response.status, received, payload


def unsigned_authorization(region: str) -> str:
    """An Authorization header that names a region but carries no real signature (enough
    for a server that does not verify signatures)."""
    return (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20261126/{region}/sagemaker/aws4_request,"
        " SignedHeaders=host;x-amz-date, Signature=0"
    )


def healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def raw_call(
    server: Any, target: str | None, body: bytes | str | dict[str, Any], **options: Any
) -> tuple[int, dict[str, str], Any]:
    """One call to a server (a process or an in-process app) without any SDK in between:
    (status, headers, decoded JSON body)."""
    result: tuple[int, dict[str, str], Any] = server.raw(target, body, **options)
    return result


def wait_until(probe: Callable[[], T], timeout: float = 20, interval: float = 0.01) -> T:
    """Poll until probe() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def image_status(client: Any, name: str) -> str | None:
    try:
        return client.describe_image(ImageName=name)["ImageStatus"]
    except client.exceptions.ResourceNotFound:
        return None


def version_status(client: Any, name: str, version: int) -> str | None:
    try:
        return client.describe_image_version(ImageName=name, Version=version)["ImageVersionStatus"]
    except client.exceptions.ResourceNotFound:
        return None


def create_image(client: Any, name: str, **extra: Any) -> str:
    """Create an image and wait until it is CREATED; returns its ARN."""
    arn = client.create_image(ImageName=name, RoleArn=ROLE, **extra)["ImageArn"]
    wait_until(lambda: image_status(client, name) == "CREATED")
    return arn


def create_version(
    client: Any, name: str, base: str = "registry.example/app:1", **extra: Any
) -> int:
    """Create a version and wait until it is CREATED; returns its number."""
    arn = client.create_image_version(ImageName=name, BaseImage=base, **extra)["ImageVersionArn"]
    number = int(arn.rsplit("/", 1)[1])
    wait_until(lambda: version_status(client, name, number) == "CREATED")
    return number


def studio_owner(
    client: Any, domain: str = "studio", **default_user_settings: Any
) -> dict[str, str]:
    """A domain (with these default user settings) and its user profile alice, both waited
    for until InService: the owner of a test's apps, as the members CreateApp takes."""
    domain_id = client.create_domain(
        DomainName=domain,
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE, **default_user_settings},
        VpcId="vpc-1",
        SubnetIds=["subnet-1"],
    )["DomainId"]
    wait_until(lambda: client.describe_domain(DomainId=domain_id)["Status"] == "InService")
    client.create_user_profile(DomainId=domain_id, UserProfileName="alice")
    wait_until(
        lambda: (
            client.describe_user_profile(DomainId=domain_id, UserProfileName="alice")["Status"]
            == "InService"
        )
    )
    return {"DomainId": domain_id, "UserProfileName": "alice"}


def race(clients: Sequence[Any], call: Callable[[Any], T]) -> list[T | str]:
    """Every client makes `call` at once (released together by a barrier); each one's
    answer, or its error's code."""
    barrier = threading.Barrier(len(clients))

    def attempt(client: Any) -> T | str:
        barrier.wait()
        try:
            return call(client)
        except ClientError as error:
            return str(error.response["Error"]["Code"])

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(attempt, clients))


def race_to_create_image(clients: Sequence[Any], name: str) -> list[str]:
    """Every client creates the same image at once; each one's outcome ('created' or the
    error code)."""

    def create(client: Any) -> str:
        client.create_image(ImageName=name, RoleArn=ROLE)
        return "created"

    return race(clients, create)


def error_of(excinfo: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# A PostgreSQL server the user names for the tests (a URL to a database they connect to for
# creating their own); without it, the run starts a private cluster of its own.
POSTGRESQL_URL_VARIABLE = "SAGEMAKER_IMAGES_TEST_POSTGRESQL"


def query_database(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Rows of one statement against a server's database, SQLite or PostgreSQL (to look
    behind the API)."""
    if url.startswith("sqlite:///"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            rows = connection.execute(sql, params).fetchall()
            connection.commit()
            return rows
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        cursor = connection.execute(sql.replace("?", "%s") if params else sql, params or None)
        return cursor.fetchall() if cursor.description else []


class Databases:
    """Fresh PostgreSQL databases for one test run.

    They live in a private cluster that the first one starts (a run on SQLite alone starts
    none), removed with everything in it by close(); or, when `admin_url` names a server,
    in that server, named after the run's process id and a random tag so that runs on it
    (other people's included) never meet, and dropped by close().
    """

    def __init__(self, admin_url: str | None = None) -> None:
        self._admin_url = admin_url
        self.cluster: PrivateCluster | None = None
        self.prefix = f"smi_test_{os.getpid()}_{os.urandom(3).hex()}"
        self.created: list[str] = []
        self._lock = threading.Lock()

    @property
    def admin_url(self) -> str:
        """A superuser's URL to the server the databases are created in."""
        with self._lock:
            if self._admin_url is None:
                # Many servers share it, each with a pool of a few connections.
                self.cluster = PrivateCluster("-c max_connections=300")
                self.cluster.start()
                self._admin_url = self.cluster.url
            return self._admin_url

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)

    def url_of(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def create(self) -> str:
        """A new empty database; returns its URL."""
        name = f"{self.prefix}_{len(self.created)}"
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_of(name)

    def close(self) -> None:
        """Remove the private cluster, or drop the databases made on the named server."""
        if self.cluster is not None:
            self.cluster.destroy()
        elif self.created:
            with self._admin() as connection:
                for name in self.created:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()

    def query(self, url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of one statement against a test database (to look behind the API)."""
        return query_database(url, sql, params)


# The store's tests also run on PostgreSQL with every lookup and create grouped (conftest.py).
GROUPED = "postgresql-grouped"


def fresh_database(backend: str, databases: Databases, workdir: Path) -> str:
    """The URL of a new, empty database: a file in `workdir`, or a new PostgreSQL database."""
    if backend.startswith("postgresql"):
        return databases.create()
    workdir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{workdir / 'catalog.db'}"


def catalog_answers(client: Any) -> dict[str, Any]:
    """Every List and Describe answer about one region's catalog, keyed by what was asked:
    two catalogs that give equal answers are the same catalog to any client."""

    def answer(found: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in found.items() if k != "ResponseMetadata"}

    def every(operation: str, key: str, **params: Any) -> list[Any]:
        pages = client.get_paginator(operation).paginate(**params)
        return [item for page in pages for item in page[key]]

    found: dict[str, Any] = {
        "images": every("list_images", "Images"),
        "app image configs": every("list_app_image_configs", "AppImageConfigs"),
    }
    for image in found["images"]:
        name = image["ImageName"]
        found[f"image {name}"] = answer(client.describe_image(ImageName=name))
        found[f"tags of {name}"] = every("list_tags", "Tags", ResourceArn=image["ImageArn"])
        found[f"aliases of {name}"] = every(
            "list_aliases", "SageMakerImageVersionAliases", ImageName=name
        )
        versions = every("list_image_versions", "ImageVersions", ImageName=name)
        found[f"versions of {name}"] = versions
        for version in versions:
            number = version["Version"]
            found[f"version {name}/{number}"] = answer(
                client.describe_image_version(ImageName=name, Version=number)
            )
            found[f"aliases of {name}/{number}"] = every(
                "list_aliases", "SageMakerImageVersionAliases", ImageName=name, Version=number
            )
    found["domains"] = every("list_domains", "Domains")
    for domain in found["domains"]:
        domain_id = domain["DomainId"]
        found[f"domain {domain_id}"] = answer(client.describe_domain(DomainId=domain_id))
        found[f"tags of domain {domain_id}"] = every(
            "list_tags", "Tags", ResourceArn=domain["DomainArn"]
        )
    for listing, key, describe, name_member, arn_member in (
        (
            "list_user_profiles",
            "UserProfiles",
            "describe_user_profile",
            "UserProfileName",
            "UserProfileArn",
        ),
        ("list_spaces", "Spaces", "describe_space", "SpaceName", "SpaceArn"),
    ):
        found[key] = every(listing, key)
        for item in found[key]:
            name = f"{item['DomainId']}/{item[name_member]}"
            described = answer(
                getattr(client, describe)(
                    DomainId=item["DomainId"], **{name_member: item[name_member]}
                )
            )
            found[f"{key} {name}"] = described
            found[f"tags of {key} {name}"] = every(
                "list_tags", "Tags", ResourceArn=described[arn_member]
            )
    found["lifecycle configs"] = every("list_studio_lifecycle_configs", "StudioLifecycleConfigs")
    for config in found["lifecycle configs"]:
        name = config["StudioLifecycleConfigName"]
        found[f"lifecycle config {name}"] = answer(
            client.describe_studio_lifecycle_config(StudioLifecycleConfigName=name)
        )
        found[f"tags of lifecycle config {name}"] = every(
            "list_tags", "Tags", ResourceArn=config["StudioLifecycleConfigArn"]
        )
    for config in found["app image configs"]:
        name = config["AppImageConfigName"]
        found[f"app image config {name}"] = answer(
            client.describe_app_image_config(AppImageConfigName=name)
        )
        found[f"tags of app image config {name}"] = every(
            "list_tags", "Tags", ResourceArn=config["AppImageConfigArn"]
        )
    return found


def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 120) -> Any:
    """`sagemaker-images ARGS` in a child process: the CompletedProcess (bytes)."""
    return subprocess.run(
        [sys.executable, "-m", "sagemaker_images", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def image_record(
    name: str,
    *,
    account: str = "123456789012",
    region: str = "us-east-1",
    at: int = 1000,
    **changes: Any,
) -> Any:
    """An ImageRecord as a CreateImage at `at` would store it, with `changes` applied."""
    from dataclasses import replace

    from sagemaker_images.resources.records import ImageRecord

    made = ImageRecord(
        id=0,
        account=account,
        region=region,
        name=name,
        name_key=name.lower(),
        description=None,
        display_name=None,
        role_arn=ROLE,
        status="CREATED",
        failure_reason=None,
        created_ms=at,
        modified_ms=at,
        last_version=0,
        version_count=0,
    )
    return replace(made, **changes)


AWS_CLI = str(Path(sys.executable).with_name("aws"))


def aws_cli(
    endpoint: str,
    region: str,
    *args: str,
    key: str = "AKIDEXAMPLECLI000001",
    secret: str = "cli-secret",
    attempts: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """`aws sagemaker ARGS` against `endpoint`, signed with `key`, with no profile or
    config of the machine's (`attempts`: AWS_MAX_ATTEMPTS, when a test counts calls)."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    if attempts is not None:
        env["AWS_MAX_ATTEMPTS"] = str(attempts)
    return subprocess.run(
        [AWS_CLI, "sagemaker", *args, "--endpoint-url", endpoint, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def open_test_store(backend: str, url: str, loop: Any) -> Any:
    """A store on `url`, opened on `loop` (a LoopThread): PostgreSQL's "grouped" backend
    takes the grouping path for every lookup and create."""
    from sagemaker_images.config import Settings
    from sagemaker_images.store import open_store
    from sagemaker_images.store.postgresql import PostgresStore

    if backend == GROUPED:
        store = PostgresStore(url, pool_size=4, group_always=True)
        loop.run(store.open())
        return store
    return loop.run(open_store(Settings(database_url=url, database_pool_size=4)))
