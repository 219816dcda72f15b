"""`--resolve required`: every new version is pinned to its image's digest, resolved against
a real CNCF distribution registry (Debian's docker-registry) started by these tests."""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from registry_support import FlakyFront, PrivateCA, RegistryProcess, TokenServer
from support import (
    ServerProcess,
    create_image,
    free_port,
    query_database,
    studio_owner,
    version_status,
    wait_until,
)

PASSWORD = "s3cret-Registry-Pa55"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
SECRETS = (PASSWORD, base64.b64encode(f"ci:{PASSWORD}".encode()).decode(), "Bearer ey")
# Long enough that a failure which should be immediate but were retried would time out the
# test's wait (20 s) instead of passing.
LONG_WINDOW = "120"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    process = RegistryProcess(tmp_path_factory.mktemp("registry")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    process = RegistryProcess(
        tmp_path_factory.mktemp("auth-registry"), users={"ci": PASSWORD}
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path_factory.mktemp("token-server"), {"ci": PASSWORD}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, token_server: TokenServer
) -> Iterator[RegistryProcess]:
    process = RegistryProcess(
        tmp_path_factory.mktemp("token-registry"), token_server=token_server
    ).start()
    yield process
    process.stop()


def write_registries(path: Path, tables: dict[str, dict[str, str]]) -> Path:
    lines = []
    for host, table in tables.items():
        lines.append(f'[registries."{host}"]')
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in table.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


@pytest.fixture(scope="module")
def registries_file(
    tmp_path_factory: pytest.TempPathFactory,
    registry: RegistryProcess,
    auth_registry: RegistryProcess,
    token_registry: RegistryProcess,
) -> Path:
    return write_registries(
        tmp_path_factory.mktemp("registries") / "registries.toml",
        {
            # Hosts as users write them in BaseImage, served here by local registries.
            "registry.test:5000": {"endpoint": registry.url},
            ECR: {"endpoint": registry.url},
            "auth.test": {
                "endpoint": auth_registry.url,
                "username": "ci",
                "password_env": "TEST_REGISTRY_PASSWORD",
            },
            "wrong.test": {"endpoint": auth_registry.url, "username": "ci", "password": "nope"},
            "anonymous.test": {"endpoint": auth_registry.url},
            "bearer.test": {
                "endpoint": token_registry.url,
                "username": "ci",
                "password_env": "TEST_REGISTRY_PASSWORD",
            },
            "bearer-wrong.test": {
                "endpoint": token_registry.url,
                "username": "ci",
                "password": "nope",
            },
        },
    )


@pytest.fixture(scope="module")
def resolving(
    tmp_path_factory: pytest.TempPathFactory, registries_file: Path
) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("resolving-server"),
        args=resolve_args(registries_file, LONG_WINDOW, "--log-level", "debug"),
        env={"TEST_REGISTRY_PASSWORD": PASSWORD},
    ).start()
    yield process
    process.stop()


def resolve_args(registries_file: Path, window: str, *more: str) -> list[str]:
    return [
        "--resolve",
        "required",
        "--registries",
        str(registries_file),
        "--resolve-retry-seconds",
        window,
        "--transitions",
        "0",
        *more,
    ]


@pytest.fixture
def sm(resolving: ServerProcess, region: str) -> Any:
    client = resolving.client(region)
    create_image(client, "img")
    return client


def settle(sm: Any, base_image: str, image: str = "img", timeout: float = 20) -> dict[str, Any]:
    """Create a version of `image` from `base_image`; wait until it leaves CREATING."""
    arn = sm.create_image_version(ImageName=image, BaseImage=base_image)["ImageVersionArn"]
    number = int(arn.rsplit("/", 1)[1])
    wait_until(lambda: version_status(sm, image, number) != "CREATING", timeout=timeout)
    return sm.describe_image_version(ImageName=image, Version=number)


def test_tag_resolves_and_is_pinned(sm, registry):
    digest = registry.push("team/app", "v1", "first")
    described = settle(sm, "registry.test:5000/team/app:v1")
    assert described["ImageVersionStatus"] == "CREATED"
    assert described["BaseImage"] == "registry.test:5000/team/app:v1"
    assert described["ContainerImage"] == f"registry.test:5000/team/app@{digest}"
    assert "FailureReason" not in described


def test_ecr_host_nested_path_and_implicit_latest(sm, registry):
    nested = registry.push("org/team/sub/tool", "2.0.1-rc_1", "nested")
    latest = registry.push("team/plain", "latest", "latest")
    described = settle(sm, f"{ECR}/org/team/sub/tool:2.0.1-rc_1")
    assert described["ContainerImage"] == f"{ECR}/org/team/sub/tool@{nested}"
    described = settle(sm, "registry.test:5000/team/plain")
    assert described["ContainerImage"] == f"registry.test:5000/team/plain@{latest}"


def test_digest_reference_is_verified(sm, registry):
    digest = registry.push("team/bydigest", "v1", "digest")
    described = settle(sm, f"registry.test:5000/team/bydigest@{digest}")
    assert described["ImageVersionStatus"] == "CREATED"
    assert described["ContainerImage"] == f"registry.test:5000/team/bydigest@{digest}"
    # A tag beside a digest is ignored, as by docker: the digest is what is pulled.
    described = settle(sm, f"registry.test:5000/team/bydigest:whatever@{digest}")
    assert described["ContainerImage"] == f"registry.test:5000/team/bydigest@{digest}"
    absent = "sha256:" + "0" * 64
    described = settle(sm, f"registry.test:5000/team/bydigest@{absent}")
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        f"BaseImage registry.test:5000/team/bydigest@{absent} could not be resolved at registry"
        " registry.test:5000: not found: the registry answered 404 MANIFEST_UNKNOWN (manifest unknown)"
    )
    assert "ContainerImage" not in described or not described["ContainerImage"].endswith(absent)


def test_unknown_tag_fails_at_once(sm, registry):
    registry.push("team/known", "v1")
    started = time.monotonic()
    described = settle(sm, "registry.test:5000/team/known:v2")
    assert time.monotonic() - started < 10  # not retried over the two-minute window
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        "BaseImage registry.test:5000/team/known:v2 could not be resolved at registry"
        " registry.test:5000: not found: the registry answered 404 MANIFEST_UNKNOWN (manifest unknown)"
    )


def test_unknown_repository_fails_at_once(sm):
    described = settle(sm, "registry.test:5000/team/ghost:v1")
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        "BaseImage registry.test:5000/team/ghost:v1 could not be resolved at registry"
        " registry.test:5000: not found: the registry answered 404"
        " NAME_UNKNOWN (repository name not known to registry)"
    )


@pytest.mark.parametrize(
    ("base_image", "why"),
    [
        ("registry.test:5000/Team/App:v1", "repository path component 'Team' must be lowercase"),
        (
            "registry.test:5000/team/app@sha256:abc",
            "digest 'sha256:abc' is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>",
        ),
        (
            "registry.test:99999/team/app:v1",
            "registry port '99999' is not a number from 1 to 65535",
        ),
        (
            "registry.test:5000/team/app:-v1",
            "tag '-v1' must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
        ),
        ("registry.test:5000/team//app", "repository path 'team//app' has an empty component"),
    ],
)
def test_malformed_reference_fails_with_the_reason(sm, base_image, why):
    described = settle(sm, base_image)
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        f"BaseImage {base_image} is not a valid image reference: {why}"
    )


def test_basic_auth_with_right_credentials(sm, auth_registry, resolving):
    digest = auth_registry.push("secure/app", "v1", "secure")
    described = settle(sm, "auth.test/secure/app:v1")
    assert described["ImageVersionStatus"] == "CREATED"
    assert described["ContainerImage"] == f"auth.test/secure/app@{digest}"
    assert PASSWORD not in json.dumps(described, default=str)
    assert not [secret for secret in SECRETS if secret in resolving.log()]


def test_basic_auth_with_wrong_or_no_credentials(sm, auth_registry, resolving):
    auth_registry.push("secure/app", "v1", "secure")
    described = settle(sm, "wrong.test/secure/app:v1")
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        "BaseImage wrong.test/secure/app:v1 could not be resolved at registry wrong.test:"
        " unauthorized: the registry answered 401 UNAUTHORIZED (authentication required)"
    )
    described = settle(sm, "anonymous.test/secure/app:v1")
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        "BaseImage anonymous.test/secure/app:v1 could not be resolved at registry anonymous.test:"
        " unauthorized (no credentials set): the registry answered 401 UNAUTHORIZED"
        " (authentication required)"
    )
    assert "nope" not in described["FailureReason"]
    assert not [secret for secret in SECRETS if secret in resolving.log()]


def test_bearer_token_flow(sm, token_registry, token_server, resolving):
    digest = token_registry.push("tokened/app", "v1", "bearer")
    described = settle(sm, "bearer.test/tokened/app:v1")
    assert described["ImageVersionStatus"] == "CREATED", described.get("FailureReason")
    assert described["ContainerImage"] == f"bearer.test/tokened/app@{digest}"
    # The token was asked for with the registry's service and the repository's pull scope.
    assert any(
        "scope=repository%3Atokened%2Fapp%3Apull" in path and "service=test-registry" in path
        for path in token_server.requests
    )
    described = settle(sm, "bearer-wrong.test/tokened/app:v1")
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    assert described["FailureReason"] == (
        "BaseImage bearer-wrong.test/tokened/app:v1 could not be resolved at registry"
        " bearer-wrong.test: unauthorized: the token service answered 401 to the configured"
        " credentials"
    )
    assert not [secret for secret in SECRETS if secret in resolving.log()]


def test_https_registry_with_a_private_ca(make_server, tmp_path, region):
    certificates = PrivateCA(tmp_path / "tls")
    registry = RegistryProcess(tmp_path / "tls-registry", tls=certificates).start()
    try:
        digest = registry.push("private/app", "v1", "tls")
        registries = write_registries(
            tmp_path / "r.toml",
            {
                "tls.test": {"endpoint": registry.url, "ca_bundle": str(certificates.ca)},
                "untrusted.test": {"endpoint": registry.url},
            },
        )
        server = make_server(*resolve_args(registries, LONG_WINDOW))
        sm = server.client(region)
        create_image(sm, "img")
        described = settle(sm, "tls.test/private/app:v1")
        assert described["ContainerImage"] == f"tls.test/private/app@{digest}"
        # Without the CA the certificate is not trusted: a definite answer, not retried.
        described = settle(sm, "untrusted.test/private/app:v1")
        assert described["ImageVersionStatus"] == "CREATE_FAILED"
        assert described["FailureReason"] == (
            "BaseImage untrusted.test/private/app:v1 could not be resolved at registry"
            " untrusted.test: TLS certificate of 127.0.0.1 not trusted (set ca_bundle for a"
            " private CA)"
        )
    finally:
        registry.stop()


def test_registry_down_fails_after_the_retry_window(make_server, tmp_path, region):
    nothing = f"http://127.0.0.1:{free_port()}"
    registries = write_registries(tmp_path / "r.toml", {"down.test": {"endpoint": nothing}})
    server = make_server(*resolve_args(registries, "2"))
    sm = server.client(region)
    create_image(sm, "img")
    started = time.monotonic()
    described = settle(sm, "down.test/team/app:v1")
    elapsed = time.monotonic() - started
    assert described["ImageVersionStatus"] == "CREATE_FAILED"
    # Waits of 0.25, 0.5 and 1 s fit in a 2 s window; the next (2 s) would not.
    assert described["FailureReason"] == (
        "BaseImage down.test/team/app:v1 could not be resolved: registry down.test"
        " unreachable after 4 tries (last: connection refused)"
    )
    assert 1.5 < elapsed < 15
    assert _resolutions(server) == {"unreachable": 4}


def test_registry_that_comes_up_within_the_window(make_server, tmp_path, region):
    registry = RegistryProcess(tmp_path / "late-registry").start()
    try:
        digest = registry.push("team/late", "v1", "late")
    finally:
        registry.stop()
    registries = write_registries(tmp_path / "r.toml", {"late.test": {"endpoint": registry.url}})
    server = make_server(*resolve_args(registries, "60"))
    sm = server.client(region)
    create_image(sm, "img")
    sm.create_image_version(ImageName="img", BaseImage="late.test/team/late:v1")
    wait_until(lambda: "try 3 again" in server.log(), timeout=20)
    assert version_status(sm, "img", 1) == "CREATING"
    registry.start()  # same port, same storage
    try:
        wait_until(lambda: version_status(sm, "img", 1) != "CREATING", timeout=40)
        described = sm.describe_image_version(ImageName="img", Version=1)
        assert described["ImageVersionStatus"] == "CREATED"
        assert described["ContainerImage"] == f"late.test/team/late@{digest}"
    finally:
        registry.stop()


def run_drift(server: ServerProcess, registries: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sagemaker_images",
            "drift",
            "--database",
            server.database_url,
            "--registries",
            str(registries),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_drift_after_a_tag_is_pushed_over(make_server, tmp_path, region, registry):
    registries = write_registries(tmp_path / "r.toml", {"drift.test": {"endpoint": registry.url}})
    server = make_server(*resolve_args(registries, "5"))
    sm = server.client(region)
    create_image(sm, "moving")
    create_image(sm, "steady")
    first = registry.push("drift/moving", "stable", "one")
    steady = registry.push("drift/steady", "1.0", "steady")
    assert settle(sm, "drift.test/drift/moving:stable", "moving")["ImageVersionStatus"] == "CREATED"
    assert settle(sm, f"drift.test/drift/steady@{steady}", "steady")["ContainerImage"].endswith(
        steady
    )
    assert settle(sm, "drift.test/drift/steady:1.0", "steady")["ImageVersionStatus"] == "CREATED"
    app_arn = _running_app(sm, "moving")

    clean = run_drift(server, registries)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == (
        "No drift: the tags of all 2 pinned versions still point at their pinned digests."
    )
    assert clean.stderr.strip().endswith("checked 2 versions pinned through a tag: 0 drifted")

    second = registry.push("drift/moving", "stable", "two")
    assert second != first
    drifted = run_drift(server, registries, "--json")
    assert drifted.returncode == 1, drifted.stderr
    assert json.loads(drifted.stdout) == [
        {
            "account": "123456789012",
            "region": region,
            "image": "moving",
            "version": 1,
            "base_image": "drift.test/drift/moving:stable",
            "pinned": first,
            "current": second,
            "error": None,
            "apps": [app_arn],
        }
    ]
    assert drifted.stderr.strip().endswith("checked 2 versions pinned through a tag: 1 drifted")
    table = run_drift(server, registries)
    assert table.returncode == 1
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "ACCOUNT",
        "REGION",
        "IMAGE",
        "VERSION",
        "BASE",
        "IMAGE",
        "PINNED",
        "NOW",
    ]
    assert lines[1].split() == [
        "123456789012",
        region,
        "moving",
        "1",
        "drift.test/drift/moving:stable",
        first[:19],
        second[:19],
    ]
    assert lines[2:] == ["", "Apps running these versions:", f"  moving/1  {app_arn}"]
    # The running server still reports the pinned digest: drift changes no version. What it
    # found shows in the web catalog, beside the version and the app.
    assert sm.describe_image_version(ImageName="moving", Version=1)["ContainerImage"].endswith(
        first
    )
    page = urllib.request.urlopen(f"{server.endpoint}/ui/images/moving?region={region}").read()
    assert page.count(b"tag moved") == 2  # the version's row, and the app's


def _running_app(sm: Any, image: str) -> str:
    """A KernelGateway app running the image's latest version: its ARN, once InService."""
    sm.create_app_image_config(
        AppImageConfigName="kernels", KernelGatewayImageConfig={"KernelSpecs": [{"Name": "py"}]}
    )
    custom = {"ImageName": image, "AppImageConfigName": "kernels"}
    owner = studio_owner(sm, "drift", KernelGatewayAppSettings={"CustomImages": [custom]})
    key = {**owner, "AppType": "KernelGateway"}
    image_arn = sm.describe_image(ImageName=image)["ImageArn"]
    arn: str = sm.create_app(
        **key,
        AppName="kernels",
        ResourceSpec={"SageMakerImageArn": image_arn, "InstanceType": "ml.t3.medium"},
    )["AppArn"]
    wait_until(lambda: sm.describe_app(**key, AppName="kernels")["Status"] == "InService")
    return arn


def test_kill_while_creating_finishes_after_restart(make_server, tmp_path, region, registry):
    registries = write_registries(tmp_path / "r.toml", {"kill.test": {"endpoint": registry.url}})
    digest = registry.push("kill/app", "v1", "kill")
    args = [*resolve_args(registries, "30"), "--transitions", "3"]
    first = make_server(*args)
    sm = first.client(region)
    create_image(sm, "img")
    for _ in range(5):
        sm.create_image_version(ImageName="img", BaseImage="kill.test/kill/app:v1")
    assert version_status(sm, "img", 5) == "CREATING"
    first.kill()  # SIGKILL: the jobs are left pending

    second = make_server(*args, database_url=first.database_url)
    sm = second.client(region)
    assert version_status(sm, "img", 1) == "CREATING"
    wait_until(
        lambda: all(version_status(sm, "img", n) == "CREATED" for n in range(1, 6)), timeout=30
    )
    finished = {n: sm.describe_image_version(ImageName="img", Version=n) for n in range(1, 6)}
    assert {d["ContainerImage"] for d in finished.values()} == {f"kill.test/kill/app@{digest}"}
    assert second.stop() == 0
    assert query_database(first.database_url, "SELECT COUNT(*) FROM jobs") == [(0,)]

    # Nothing completes a second time: another restart changes nothing.
    third = make_server(*args, database_url=first.database_url)
    sm = third.client(region)
    time.sleep(1)
    for n, before in finished.items():
        after = sm.describe_image_version(ImageName="img", Version=n)
        assert after["LastModifiedTime"] == before["LastModifiedTime"]
        assert after["ContainerImage"] == before["ContainerImage"]


def serve_with_registries(registries: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sagemaker_images", "serve", "--registries", str(registries)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_bad_registries_file_stops_the_server(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[registries."x.test"]\nendpoint = "ftp://x"\n')
    result = serve_with_registries(bad)
    assert result.returncode == 2
    assert "endpoint must be an http:// or https:// URL" in result.stderr
    missing_env = tmp_path / "env.toml"
    missing_env.write_text(
        '[registries."x.test"]\nusername = "u"\npassword_env = "SURELY_UNSET_VARIABLE_4"\n'
    )
    result = serve_with_registries(missing_env)
    assert result.returncode == 2
    assert "environment variable SURELY_UNSET_VARIABLE_4 is not set" in result.stderr


@contextlib.contextmanager
def behind_flaky_front(
    make_server,
    tmp_path: Path,
    region: str,
    registry: RegistryProcess,
    failures: list[int],
    window: str,
) -> Iterator[tuple[Any, FlakyFront]]:
    """A resolving server whose `busy.test` registry first answers `failures`; an image `img`."""
    front = FlakyFront(registry.url, failures).start()
    try:
        registries = write_registries(tmp_path / "r.toml", {"busy.test": {"endpoint": front.url}})
        sm = make_server(*resolve_args(registries, window)).client(region)
        create_image(sm, "img")
        yield sm, front
    finally:
        front.stop()


def test_busy_registry_answers_are_retried(make_server, tmp_path, region, registry):
    """503 and 429 are worth another try: the version is pinned once the registry answers."""
    digest = registry.push("busy/app", "v1", "busy")
    failures = [503, 429, 502]
    with behind_flaky_front(make_server, tmp_path, region, registry, failures, "30") as (sm, front):
        described = settle(sm, "busy.test/busy/app:v1")
        assert described["ImageVersionStatus"] == "CREATED"
        assert described["ContainerImage"] == f"busy.test/busy/app@{digest}"
        assert front.answered[:3] == failures


def test_registry_that_stays_busy_fails_after_the_window(make_server, tmp_path, region, registry):
    with behind_flaky_front(make_server, tmp_path, region, registry, [503] * 50, "1") as (
        sm,
        front,
    ):
        described = settle(sm, "busy.test/busy/app:v1")
        assert described["ImageVersionStatus"] == "CREATE_FAILED"
        reason = described["FailureReason"]
        assert reason.startswith(
            "BaseImage busy.test/busy/app:v1 could not be resolved: registry busy.test"
            " unreachable after "
        )
        assert "503" in reason, reason
        assert len(front.answered) >= 2


def _resolutions(server: ServerProcess) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    _, _, body = server.request("GET", b"/metrics", b"", [(b"host", b"x")], b"")
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(body.decode())
        if family.name == "sagemaker_images_registry_resolutions"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def test_resolutions_are_counted_by_outcome(sm, registry, auth_registry, resolving):
    before = _resolutions(resolving)
    registry.push("team/counted", "v1", "counted")
    auth_registry.push("secure/app", "v1", "secure")
    for base_image in (
        "registry.test:5000/team/counted:v1",
        "registry.test:5000/team/counted:v1",
        "registry.test:5000/team/counted:missing",
        "wrong.test/secure/app:v1",
        "registry.test:5000/Team/App:v1",
    ):
        settle(sm, base_image)
    after = _resolutions(resolving)
    grown = {outcome: after[outcome] - before.get(outcome, 0) for outcome in after}
    assert {k: v for k, v in grown.items() if v} == {
        "pinned": 2,
        "not_found": 1,
        "unauthorized": 1,
        "malformed": 1,
    }
