"""Several servers on one PostgreSQL database: one catalog, whichever server is asked.

These run only on PostgreSQL (the SQLite catalog belongs to one server process).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from postgresql_support import PrivateCluster
from support import (
    ROLE,
    ServerProcess,
    create_image,
    free_port,
    image_status,
    query_database,
    race,
    race_to_create_image,
    raw_call,
    studio_owner,
    version_status,
    wait_until,
)

pytestmark = pytest.mark.backends("postgresql")


def start_together(*servers: ServerProcess) -> list[ServerProcess]:
    """Start servers at the same moment (their migrations race on one fresh database)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        return list(pool.map(lambda s: s.start(), servers))


def versions_of(client, image: str) -> list[dict]:
    return [
        v
        for page in client.get_paginator("list_image_versions").paginate(ImageName=image)
        for v in page["ImageVersions"]
    ]


def test_servers_starting_together_share_one_schema(backend, databases, tmp_path):
    url = databases.create()
    servers = [
        ServerProcess(tmp_path / f"s{n}", database_url=url, args=["--database-pool-size", "2"])
        for n in range(3)
    ]
    try:
        start_together(*servers)
        applied = databases.query(url, "SELECT version FROM schema_migrations ORDER BY version")
        assert applied and len(applied) == len({row[0] for row in applied})
        # What one server writes, every other reads.
        servers[0].client().create_image(ImageName="shared", RoleArn=ROLE)
        for other in servers[1:]:
            assert other.client().describe_image(ImageName="shared")["ImageName"] == "shared"
    finally:
        for server in servers:
            server.stop()


def test_concurrent_version_creation_across_two_servers(make_server, region):
    first = make_server("--transitions", "0.2")
    second = make_server("--transitions", "0.2", database_url=first.database_url)
    create_image(first.client(region), "split")
    clients = [(first if n % 2 else second).client(region) for n in range(12)]
    calls_each = 10

    def create_many(client):
        return [
            int(
                client.create_image_version(ImageName="split", BaseImage="r/x:1")[
                    "ImageVersionArn"
                ].rsplit("/", 1)[1]
            )
            for _ in range(calls_each)
        ]

    with ThreadPoolExecutor(len(clients)) as pool:
        numbers = [n for batch in pool.map(create_many, clients) for n in batch]
    total = len(clients) * calls_each
    assert sorted(numbers) == list(range(1, total + 1))
    # Each job is finished once, by whichever server claimed it; both see the same catalog.
    for server in (first, second):
        sm = server.client(region)
        wait_until(
            lambda sm=sm: (
                [v["ImageVersionStatus"] for v in versions_of(sm, "split")] == ["CREATED"] * total
            )
        )
    assert first.client(region).describe_image_version(ImageName="split")["Version"] == total


def test_name_is_unique_across_servers(make_server, region):
    first = make_server()
    second = make_server(database_url=first.database_url)
    clients = [(first, second)[n % 2].client(region) for n in range(10)]
    outcomes = race_to_create_image(clients, "contested")
    assert outcomes.count("created") == 1
    assert outcomes.count("ResourceInUse") == len(clients) - 1
    # Names are unique case-insensitively on every server.
    with pytest.raises(ClientError) as excinfo:
        second.client(region).create_image(ImageName="CONTESTED", RoleArn=ROLE)
    assert excinfo.value.response["Error"]["Code"] == "ResourceInUse"


def test_two_servers_launch_each_app_once_and_one_app_a_key(make_server, region):
    first = make_server("--transitions", "0.2")
    second = make_server("--transitions", "0.2", database_url=first.database_url)
    sm = first.client(region)
    owner = studio_owner(sm, "shared")
    key = {**owner, "AppType": "JupyterServer"}
    clients = [(first, second)[n % 2].client(region) for n in range(10)]
    # One key, ten callers on two servers: one app.
    outcomes = race(clients, lambda client: client.create_app(**key, AppName="contested"))
    assert sum(1 for outcome in outcomes if isinstance(outcome, dict)) == 1
    assert [o for o in outcomes if not isinstance(o, dict)] == ["ResourceInUse"] * 9
    # Twenty apps, each launched by one server or the other, once.
    arns = [clients[n % 10].create_app(**key, AppName=f"app-{n}")["AppArn"] for n in range(20)]
    wait_until(
        lambda: (
            {
                a["Status"]
                for a in sm.list_apps(DomainIdEquals=owner["DomainId"], MaxResults=100)["Apps"]
            }
            == {"InService"}
        )
    )
    logs = first.log() + second.log()
    for arn in arns:
        assert logs.count(f"app {arn}: InService") == 1, arn


def _pid_of(owner: str | None) -> int | None:
    """The process id in a job's lease owner (`host:pid:tag`)."""
    return None if owner is None else int(owner.split(":")[-2])


@contextlib.contextmanager
def held_versions(url: str, image_id: int) -> Iterator[Any]:
    """Lock an image's version rows from outside: a worker that claims their jobs then waits
    inside the transaction that would record them, its leases committed. Rolled back on
    leaving (or by `.rollback()`)."""
    with psycopg.connect(url) as blocker:
        blocker.execute(
            "SELECT version FROM image_versions WHERE image_id = %s FOR UPDATE", (image_id,)
        )
        yield blocker
        blocker.rollback()


def claimed_versions(url: str, count: int, timeout: float = 20) -> Counter[int]:
    """Wait until `count` jobs are all leased; how many each server process holds."""

    def leased() -> Counter[int] | None:
        owners = [_pid_of(row[0]) for row in query_database(url, "SELECT lease_owner FROM jobs")]
        if len(owners) != count or None in owners:
            return None
        return Counter(pid for pid in owners if pid is not None)

    return wait_until(leased, timeout=timeout, interval=0.005)


def all_created(sm: Any, image: str, count: int) -> bool:
    return [v["ImageVersionStatus"] for v in versions_of(sm, image)] == ["CREATED"] * count


def leases_of(url: str, owner_pid: int) -> list[int]:
    """When the leases a server process holds lapse (epoch milliseconds)."""
    rows = query_database(url, "SELECT lease_owner, lease_until_ms FROM jobs")
    return [int(until) for owner, until in rows if _pid_of(owner) == owner_pid]


def finished_before(sm: Any, image: str, moment_ms: int) -> list[int]:
    """The versions whose creation was recorded (by the server, in its own time) after
    `moment_ms`: none, when every job was finished before then."""
    return [
        v["Version"]
        for v in versions_of(sm, image)
        if v["LastModifiedTime"].timestamp() * 1000 >= moment_ms
    ]


TAKEOVER_TRANSITION = 2.0


def test_jobs_of_a_killed_server_are_taken_over_at_once(make_server, databases, region):
    """Kill -9 the server holding a batch of claimed jobs: the other sees its presence lock
    free and takes them over at once, before their 30 s leases lapse (the jobs wait in
    their recording transactions behind rows locked here, so they are claimed and not done
    when the kill comes). Judged by the servers' own times, not by the test's clock."""
    flags = ("--transitions", str(TAKEOVER_TRANSITION))
    first = make_server(*flags)
    url = first.database_url
    second = make_server(*flags, database_url=url)
    servers = {server.process.pid: server for server in (first, second)}
    sm = first.client(region)
    create_image(sm, "orphans")
    image_id = databases.query(url, "SELECT id FROM images WHERE name = 'orphans'")[0][0]
    for _ in range(6):
        sm.create_image_version(ImageName="orphans", BaseImage="r/x:1")
    with held_versions(url, image_id) as blocker:
        # Both servers wake when the jobs fall due and claim them, one or both: the one
        # holding the most dies.
        holders = claimed_versions(url, 6)
        doomed_pid = holders.most_common(1)[0][0]
        doomed = servers.pop(doomed_pid)
        (survivor,) = servers.values()
        lapse = min(leases_of(url, doomed_pid))
        doomed.kill()
        blocker.rollback()
    sm = survivor.client(region)
    wait_until(lambda: all_created(sm, "orphans", 6), timeout=60, interval=0.005)
    assert finished_before(sm, "orphans", lapse) == []  # taken over, not waited out
    assert databases.query(url, "SELECT COUNT(*) FROM jobs")[0][0] == 0
    # The survivor's own jobs go on as usual.
    sm.delete_image_version(ImageName="orphans", Version=6)
    wait_until(lambda: version_status(sm, "orphans", 6) is None, timeout=10)
    assert image_status(sm, "orphans") == "CREATED"


def test_a_restarted_server_takes_over_its_earlier_jobs_at_once(make_server, databases, region):
    """Killed while holding claimed jobs and started again, a server does not wait for the
    leases of its earlier self (another owner id, whose presence died with it)."""
    flags = ("--transitions", str(TAKEOVER_TRANSITION))
    doomed = make_server(*flags)
    url = doomed.database_url
    sm = doomed.client(region)
    create_image(sm, "reborn")
    image_id = databases.query(url, "SELECT id FROM images WHERE name = 'reborn'")[0][0]
    for _ in range(6):
        sm.create_image_version(ImageName="reborn", BaseImage="r/x:1")
    with held_versions(url, image_id) as blocker:
        assert claimed_versions(url, 6) == {doomed.process.pid: 6}
        lapse = min(leases_of(url, doomed.process.pid))
        doomed.kill()
        blocker.rollback()
    again = make_server(*flags, database_url=url)
    sm = again.client(region)
    wait_until(lambda: all_created(sm, "reborn", 6), timeout=60, interval=0.005)
    assert finished_before(sm, "reborn", lapse) == []  # its earlier leases were not waited out
    assert databases.query(url, "SELECT COUNT(*) FROM jobs")[0][0] == 0


class StallingRegistry:
    """A registry that answers the manifests of `quick/...` at once with a digest, and keeps
    a request for `slow/...` waiting until `release()`: a registry that hangs."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.stalled = threading.Event()  # a request for slow/ has arrived
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                if self.path.startswith("/v2/slow/"):
                    registry.stalled.set()
                    registry.released.wait(60)
                self.send_response(200)
                self.send_header("Docker-Content-Digest", "sha256:" + "ab" * 32)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


PICKUP_TRANSITION = 0.1
# Room for a loaded machine, and still proof: found at its next poll (each second) instead,
# each of eight versions would be done at a random point of the second after it fell due,
# and all eight within this of it once in 256 runs.
PICKUP_SLACK = 0.5


def completion_seconds(client: Any, image: str, number: int) -> float:
    """How long a version took to be CREATED, as its creation and last modification say."""
    found = client.describe_image_version(ImageName=image, Version=number)
    return (found["LastModifiedTime"] - found["CreationTime"]).total_seconds()


def test_new_jobs_go_at_once_to_a_free_server(make_server, databases, region, tmp_path):
    """A version created on a server whose one job slot is taken (`--job-concurrency 1`,
    its job waiting on a registry that hangs) is done by the other, idle, server on time:
    it heard of the job through NOTIFY and slept until it fell due, rather than finding it
    at its next poll (each second)."""
    registry = StallingRegistry()
    registries = tmp_path / "registries.toml"
    registries.write_text(f'[registries."stall.test"]\nendpoint = "{registry.url}"\n')
    flags = (
        *("--transitions", str(PICKUP_TRANSITION), "--job-concurrency", "1"),
        *("--resolve", "required", "--registries", str(registries)),
        *("--resolve-retry-seconds", "600"),
    )
    try:
        busy = make_server(*flags)
        url = busy.database_url
        sm = busy.client(region)
        create_image(sm, "stuck")
        create_image(sm, "moving")
        sm.create_image_version(ImageName="stuck", BaseImage="stall.test/slow/app:1")
        assert registry.stalled.wait(20)
        assert claimed_versions(url, 1) == {busy.process.pid: 1}
        # Started now, the other server cannot have taken the stuck job first.
        idle = make_server(*flags, database_url=url)
        # The first job a server resolves at a registry host builds that host's HTTP client
        # (30-50 ms here: its TLS context): done once before timing, as in any server that
        # has been running a while.
        warm = sm.create_image_version(ImageName="moving", BaseImage="stall.test/quick/app:1")
        assert warm["ImageVersionArn"].endswith("/1")
        wait_until(lambda: version_status(sm, "moving", 1) == "CREATED", timeout=10)
        took = []
        for number in range(2, 10):
            sent_at = time.monotonic()
            sm.create_image_version(ImageName="moving", BaseImage="stall.test/quick/app:1")
            wait_until(
                lambda number=number: version_status(sm, "moving", number) == "CREATED",
                timeout=10,
                interval=0.005,
            )
            took.append(time.monotonic() - sent_at)
        # From the servers' own clocks (the version's creation by the busy server, its
        # completion by the idle one): what the client's polling adds is not theirs.
        completed = [completion_seconds(sm, "moving", number) for number in range(2, 10)]
        assert max(completed) <= PICKUP_TRANSITION + PICKUP_SLACK, (completed, took)
        # The busy server still is, and the idle one recorded every version (each server
        # logs the transitions it completes).
        assert version_status(sm, "stuck", 1) == "CREATING"
        for number in range(1, 10):
            done = f"image version moving/{number} (123456789012, {region}): CREATED"
            assert done in idle.log() and done not in busy.log()
        registry.release()
        wait_until(lambda: version_status(sm, "stuck", 1) == "CREATED", timeout=20)
    finally:
        registry.close()


def test_database_outage_answers_503_and_recovers(make_server, databases, region):
    """Checked on the run's server, which other tests share, by cutting this test's own
    connections."""
    server = make_server("--transitions", "0.2", "--database-pool-timeout", "1")
    sm = server.client(region)
    create_image(sm, "outage")
    url = server.database_url
    name = url.rsplit("/", 1)[1]
    # Several calls at once, so that the pool holds several connections.
    race([server.client(region) for _ in range(8)], lambda c: c.describe_image(ImageName="outage"))
    pooled = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
    assert databases.query(databases.admin_url, pooled, (name, "sagemaker-images"))[0][0] > 1
    # Kill every connection the server holds, and wait until each has gone (as a database
    # restart does): its pooled connections are now dead.
    killed = databases.query(
        databases.admin_url,
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    alive = "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
    wait_until(
        lambda: databases.query(databases.admin_url, alive, ([pid for pid, _ in killed],)) == [(0,)]
    )
    # A connection that died while idle is replaced without the client noticing, for writes
    # (which are never sent twice) as for reads: no retry here.
    for number in (1, 2):
        status, _, body = raw_call(
            server,
            "SageMaker.CreateImageVersion",
            {"ImageName": "outage", "BaseImage": "r/x:1", "ClientToken": f"{number}" * 36},
            region=region,
        )
        assert status == 200, body
    assert sm.describe_image(ImageName="outage")["ImageStatus"] == "CREATED"


def _readiness(server: ServerProcess) -> tuple[int, str]:
    status, _, body = server.request("GET", b"/readyz", b"", [(b"host", b"x")], b"")
    return status, json.loads(body)["status"]


@pytest.fixture
def cluster():
    made = PrivateCluster()
    made.start()
    yield made
    made.destroy()


# A server's own connection, beside its pool: its presence lock, and LISTEN for new jobs.
PRESENCE_CONNECTIONS = (
    "SELECT a.application_name, a.query FROM pg_stat_activity a"
    " WHERE a.datname = current_database() AND a.application_name LIKE 'sagemaker-images %'"
    " AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'"
    " AND l.granted)"
)
LISTEN = "LISTEN sagemaker_images_jobs"
RECOVERY_SECONDS = 30.0


class Prober:
    """Calls one server without any retry, as fast as it answers, and keeps each answer:
    (sent at, status, error code)."""

    def __init__(self, server: ServerProcess, region: str) -> None:
        self.answers: list[tuple[float, int, str]] = []
        self._stop = threading.Event()

        def probe() -> None:
            while not self._stop.is_set():
                sent_at = time.monotonic()
                status, _, body = raw_call(
                    server, "SageMaker.DescribeImage", {"ImageName": "weathered"}, region=region
                )
                self.answers.append((sent_at, status, "" if status == 200 else body["__type"]))
                time.sleep(0.005)

        self._thread = threading.Thread(target=probe)
        self._thread.start()

    def since(self, moment: float) -> list[tuple[float, int, str]]:
        return [answer for answer in self.answers if answer[0] >= moment]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def recovered(
    cluster: PrivateCluster, servers: list[ServerProcess], probers: list[Prober], back_at: float
) -> None:
    """Once the database accepts connections again, every server by itself holds its
    presence lock and LISTENs again, and answers every call from then on (the bound is one
    no loaded machine misses: what is proved is that nothing stays broken)."""
    pids = {server.process.pid for server in servers}

    def listening() -> bool:
        rows = query_database(cluster.url, PRESENCE_CONNECTIONS)
        found = {int(name.split(":")[-2]): query for name, query in rows}
        return all(found.get(pid) == LISTEN for pid in pids)

    def answering() -> bool:
        return all(any(s == 200 for _, s, _ in prober.since(back_at)) for prober in probers)

    wait_until(lambda: listening() and answering(), timeout=RECOVERY_SECONDS)
    settled = time.monotonic()
    time.sleep(0.5)
    for prober in probers:
        after = prober.since(settled)
        assert after and {status for _, status, _ in after} == {200}, after[:5]


def _stalled(
    acknowledged: list[int],
    given_up: list[str],
    threads: list[threading.Thread],
    servers: list[ServerProcess],
    restart_seconds: float,
) -> str:
    """What the clients were doing when they stopped making progress, for the failure."""
    frames = sys._current_frames()
    stacks = [
        "".join(traceback.format_stack(frames[thread.ident])[-4:])
        for thread in threads
        if thread.ident in frames
    ]
    logs = [server.log().splitlines()[-30:] for server in servers]
    return "\n".join(
        [
            f"restart took {restart_seconds:.2f} s; {len(acknowledged)} acknowledged;"
            f" given up: {Counter(given_up)}",
            *stacks,
            *("\n".join(lines) for lines in logs),
        ]
    )


def test_database_restart_under_load(backend, cluster, make_server, region):
    """Clients create and describe on two servers while the database crashes and comes back,
    then while it is restarted (`pg_ctl restart`): calls meanwhile are answered 503
    ServiceUnavailable (which botocore retries), none that was acknowledged is lost, none is
    half-written, and each server recovers by itself within two seconds."""
    # Thousands of versions of one image are made here: above AWS's quota of 1,000, which
    # the load would otherwise reach (every create then refused, the test stalled).
    flags = (
        "--transitions",
        "0.2",
        "--database-pool-timeout",
        "1",
        "--max-versions-per-image",
        "1000000",
    )
    servers = [make_server(*flags, database_url=cluster.url)]
    servers.append(make_server(*flags, database_url=cluster.url))
    create_image(servers[0].client(region), "weathered")
    stop = threading.Event()
    acknowledged: list[int] = []
    retried: list[float] = []  # when a call that botocore had to retry was answered
    given_up: list[str] = []

    def load(n: int) -> None:
        # botocore's own retries, as a user's client has them: 503 is retryable. Each
        # version is created on one server and read back from the other.
        writer, reader = (
            server.client(region, retries={"mode": "standard", "total_max_attempts": 12})
            for server in (servers[n % 2], servers[(n + 1) % 2])
        )
        while not stop.is_set():
            try:
                response = writer.create_image_version(ImageName="weathered", BaseImage="r/x:1")
                number = int(response["ImageVersionArn"].rsplit("/", 1)[1])
                acknowledged.append(number)
                if response["ResponseMetadata"]["RetryAttempts"]:
                    retried.append(time.monotonic())
                described = reader.describe_image_version(ImageName="weathered", Version=number)
                if described["ResponseMetadata"]["RetryAttempts"]:
                    retried.append(time.monotonic())
            except ClientError as error:
                given_up.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    probers = [Prober(server, region) for server in servers]
    try:
        wait_until(lambda: len(acknowledged) >= 20)
        cluster.stop("immediate")  # as if the database crashed
        for server in servers:
            status, _, body = raw_call(
                server,
                "SageMaker.DescribeImage",
                {"ImageName": "weathered"},
                region=region,
            )
            assert (status, body["__type"]) == (503, "ServiceUnavailable"), body
            assert "Please retry" in body["message"]
            # A load balancer's readiness check sends no more calls here; liveness holds.
            assert _readiness(server) == (503, "unavailable")
            assert server.request("GET", b"/healthz", b"", [(b"host", b"x")], b"")[0] == 200
        time.sleep(1)
        cluster.start()
        recovered(cluster, servers, probers, time.monotonic())
        for server in servers:
            assert _readiness(server) == (200, "ready")
        before = len(acknowledged)
        wait_until(lambda: len(acknowledged) >= before + 20)
        # Calls made while it was down were answered 503 and retried by botocore.
        assert retried

        started = time.monotonic()
        cluster.restart()  # about 0.2 s here: most calls wait for a connection meanwhile,
        # and whether any is caught in flight (answered 503, then retried) is chance
        restarted = time.monotonic()
        recovered(cluster, servers, probers, restarted)
        before = len(acknowledged)
        try:
            # Longer than botocore's longest backoff (20 s), which a call that met the
            # restart several times may be sleeping.
            wait_until(lambda: len(acknowledged) >= before + 20, timeout=60)
        except AssertionError as error:
            raise AssertionError(
                _stalled(acknowledged, given_up, threads, servers, restarted - started)
            ) from error
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        for prober in probers:
            prober.stop()
    assert given_up == []
    # Calls were answered, or refused as ServiceUnavailable: never an error of another kind.
    every = [answer for prober in probers for answer in prober.answers]
    assert {(s, e) for _, s, e in every} == {(200, ""), (503, "ServiceUnavailable")}
    sm = servers[1].client(region)
    listed = versions_of(sm, "weathered")
    numbers = sorted(int(v["ImageVersionArn"].rsplit("/", 1)[1]) for v in listed)
    # Unique, gap-free, and every acknowledged version is there.
    assert sorted(acknowledged) == list(range(1, len(acknowledged) + 1))
    assert numbers == sorted(acknowledged)
    # Nothing half-written: the image's counters agree with its versions.
    (counters,) = query_database(
        cluster.url,
        "SELECT i.last_version, i.version_count, COUNT(v.version), MAX(v.version)"
        " FROM images i LEFT JOIN image_versions v ON v.image_id = i.id"
        " WHERE i.name = 'weathered' GROUP BY i.id",
    )
    total = len(acknowledged)
    assert counters == (total, total, total, total)
    # Jobs caught by the outages are retried at once, not after their 30 s leases lapse.
    wait_until(
        lambda: {v["ImageVersionStatus"] for v in versions_of(sm, "weathered")} == {"CREATED"},
        timeout=15,
    )
    assert query_database(cluster.url, "SELECT COUNT(*) FROM jobs") == [(0,)]


def test_migrate_command_and_unreachable_database(backend, databases):
    url = databases.create()
    migrate = [sys.executable, "-m", "sagemaker_images", "migrate", "--database", url]
    result = subprocess.run(migrate, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"schema up to date: {url}" in result.stdout
    tables = {row[0] for row in databases.query(url, "SELECT tablename FROM pg_tables")}
    assert {"images", "image_versions", "jobs", "schema_migrations"} <= tables
    # A database that is not there: the server says so and exits, it does not hang.
    nowhere = f"postgresql://postgres:hidden@127.0.0.1:{free_port()}/catalog"
    serve = [
        *(sys.executable, "-m", "sagemaker_images", "serve", "--port", str(free_port())),
        *("--database", nowhere, "--database-pool-timeout", "1"),
    ]
    result = subprocess.run(serve, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "cannot connect to postgresql://postgres:***@127.0.0.1" in result.stderr
    assert "hidden" not in result.stderr


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_serve_with_workers_runs_several_complete_servers_on_one_port(
    backend, databases, tmp_path, region
):
    """`serve --workers 2`: two processes answer on one port, each a server of its own (its
    presence lock, its job worker); transitions complete; SIGTERM stops them all."""
    url = databases.create()
    server = ServerProcess(
        tmp_path / "workers",
        database_url=url,
        args=["--workers", "2", "--transitions", "0.2", "--database-pool-size", "4"],
    )
    with server:
        server.start(timeout=60)
        assert server.process is not None
        sm = server.client(region)
        create_image(sm, "shared-port")

        def answering() -> set[int] | None:
            for _ in range(10):  # each on a connection of its own
                status, _, _ = raw_call(
                    server, "SageMaker.DescribeImage", {"ImageName": "shared-port"}, region=region
                )
                assert status == 200
            found = {int(pid) for pid in re.findall(r" pid=(\d+)$", server.log(), re.M)}
            return found if len(found) == 2 else None

        workers = wait_until(answering, timeout=60, interval=0.1)
        assert {_parent_of(pid) for pid in workers} == {server.process.pid}

        def presences() -> dict[int, str]:
            rows = query_database(url, PRESENCE_CONNECTIONS)
            return {int(name.split(":")[-2]): query for name, query in rows}

        assert wait_until(lambda: presences() == dict.fromkeys(workers, LISTEN))
        for _ in range(10):
            sm.create_image_version(ImageName="shared-port", BaseImage="r/x:1")
        wait_until(lambda: all_created(sm, "shared-port", 10), timeout=20)
        assert server.stop() == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists()
        wait_until(lambda: presences() == {})
    assert "Traceback" not in server.log()


def test_image_quota_holds_across_servers(make_server, region):
    first = make_server("--max-images", "3")
    second = make_server("--max-images", "3", database_url=first.database_url)
    clients = [(first, second)[n % 2].client(region) for n in range(10)]

    def create(numbered):
        number, client = numbered
        client.create_image(ImageName=f"quota-{number}", RoleArn=ROLE)
        return "created"

    outcomes = race(list(enumerate(clients)), create)
    assert outcomes.count("created") == 3
    assert outcomes.count("ResourceLimitExceeded") == 7
    assert len(first.client(region).list_images()["Images"]) == 3


def test_reads_grouped_under_load_see_every_write_acknowledged_before(make_server, region):
    """A server of one connection under Describe load answers its waiting reads by the
    statement-full (grouped); a client that creates a version through another server and
    then describes it through this one finds it every time."""
    first = make_server()
    second = make_server("--database-pool-size", "1", database_url=first.database_url)
    writer, reader = first.client(region), second.client(region)
    create_image(writer, "seen")
    writer.create_image_version(ImageName="seen", BaseImage="r/x:1")
    stop = threading.Event()

    def describe_until_stopped() -> int:
        client = second.client(region)
        calls = 0
        while not stop.is_set():
            client.describe_image_version(ImageName="seen", Version=1)
            calls += 1
        return calls

    missed = []
    with ThreadPoolExecutor(8) as pool:
        load = [pool.submit(describe_until_stopped) for _ in range(8)]
        try:
            for _ in range(150):
                arn = writer.create_image_version(ImageName="seen", BaseImage="r/x:1")
                number = int(arn["ImageVersionArn"].rsplit("/", 1)[1])
                if version_status(reader, "seen", number) is None:
                    missed.append(number)
        finally:
            stop.set()
        assert all(future.result() > 0 for future in load)
    assert missed == []
    with urllib.request.urlopen(second.endpoint + "/metrics", timeout=10) as answer:
        exposition = answer.read().decode()
    grouped = re.search(r"^sagemaker_images_database_grouped_reads_total (\S+)$", exposition, re.M)
    assert grouped is not None and float(grouped.group(1)) > 0, exposition
