"""Several servers on one PostgreSQL database: one catalog, whichever server is asked.

These run only on PostgreSQL (the SQLite catalog belongs to one server process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from support import (
    ROLE,
    PrivateCluster,
    ServerProcess,
    create_image,
    free_port,
    image_status,
    race_to_create_image,
    raw_call,
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


def test_jobs_of_a_killed_server_are_taken_over(make_server, databases, region):
    lease = 2.0
    flags = ("--transitions", "0.5", "--job-lease-seconds", str(lease))
    doomed = make_server(*flags)
    url = doomed.database_url
    sm = doomed.client(region)
    create_image(sm, "orphans")
    image_id = databases.query(url, "SELECT id FROM images WHERE name = 'orphans'")[0][0]
    for _ in range(6):
        sm.create_image_version(ImageName="orphans", BaseImage="r/x:1")

    # Hold the versions' rows: the server claims the jobs when they fall due, and then
    # waits inside the transaction that would record them, its leases committed.
    import psycopg

    with psycopg.connect(url) as blocker:
        blocker.execute(
            "SELECT version FROM image_versions WHERE image_id = %s FOR UPDATE", (image_id,)
        )
        owner = f":{doomed.process.pid}:"

        def claimed_by_doomed():
            rows = databases.query(url, "SELECT lease_owner FROM jobs")
            return len(rows) == 6 and all(owner in (row[0] or "") for row in rows)

        wait_until(claimed_by_doomed, timeout=20)
        doomed.kill()  # SIGKILL while it holds six claimed jobs
        killed_at = time.monotonic()
        blocker.rollback()

    heir = make_server(*flags, database_url=url)
    sm = heir.client(region)
    wait_until(
        lambda: [v["ImageVersionStatus"] for v in versions_of(sm, "orphans")] == ["CREATED"] * 6,
        timeout=30,
    )
    # Not before the dead server's leases ran out.
    assert time.monotonic() - killed_at >= lease * 0.9
    assert databases.query(url, "SELECT COUNT(*) FROM jobs")[0][0] == 0
    # The heir's own jobs go on as usual.
    sm.delete_image_version(ImageName="orphans", Version=6)
    wait_until(lambda: version_status(sm, "orphans", 6) is None)
    assert image_status(sm, "orphans") == "CREATED"


def test_database_outage_answers_503_and_recovers(make_server, databases, region):
    """Checked on the run's server, which other tests share, by cutting this test's own
    connections."""
    server = make_server("--transitions", "0.2", "--database-pool-timeout", "1")
    sm = server.client(region)
    create_image(sm, "outage")
    url = server.database_url
    name = url.rsplit("/", 1)[1]
    # Kill every connection the server holds: its pooled connections are now dead.
    databases.query(
        databases.admin_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    # A connection that died while idle is replaced without the client noticing.
    assert sm.describe_image(ImageName="outage")["ImageStatus"] == "CREATED"
    status, _, body = raw_call(
        server,
        "SageMaker.CreateImageVersion",
        {"ImageName": "outage", "BaseImage": "r/x:1", "ClientToken": "t" * 36},
        region=region,
    )
    assert status == 200, body


def _readiness(server: ServerProcess) -> tuple[int, str]:
    status, _, body = server.request("GET", b"/readyz", b"", [(b"host", b"x")], b"")
    return status, json.loads(body)["status"]


@pytest.fixture
def cluster():
    made = PrivateCluster()
    made.start()
    yield made
    made.destroy()


def test_database_restart_under_load(backend, cluster, make_server, region):
    flags = ("--transitions", "0.2", "--database-pool-timeout", "1")
    servers = [make_server(*flags, database_url=cluster.url)]
    servers.append(make_server(*flags, database_url=cluster.url))
    create_image(servers[0].client(region), "weathered")
    stop = threading.Event()
    acknowledged: list[int] = []
    retried: list[int] = []
    given_up: list[str] = []

    def load(server: ServerProcess) -> None:
        # botocore's own retries, as a user's client has them: 503 is retryable.
        client = server.client(region, retries={"mode": "standard", "total_max_attempts": 12})
        while not stop.is_set():
            try:
                response = client.create_image_version(ImageName="weathered", BaseImage="r/x:1")
            except ClientError as error:
                given_up.append(error.response["Error"]["Code"])
                continue
            acknowledged.append(int(response["ImageVersionArn"].rsplit("/", 1)[1]))
            if response["ResponseMetadata"]["RetryAttempts"]:
                retried.append(acknowledged[-1])

    threads = [threading.Thread(target=load, args=(servers[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
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
        # The same server processes recover by themselves.
        for server in servers:
            wait_until(
                lambda server=server: (
                    raw_call(
                        server,
                        "SageMaker.DescribeImage",
                        {"ImageName": "weathered"},
                        region=region,
                    )[0]
                    == 200
                ),
                timeout=15,
            )
            assert _readiness(server) == (200, "ready")
        before = len(acknowledged)
        wait_until(lambda: len(acknowledged) >= before + 20)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert given_up == []
    assert retried, "no call needed botocore's retry: the outage was not under load"
    sm = servers[1].client(region)
    listed = versions_of(sm, "weathered")
    numbers = sorted(int(v["ImageVersionArn"].rsplit("/", 1)[1]) for v in listed)
    # Unique, gap-free, and every acknowledged version is there; nothing half-written.
    assert sorted(acknowledged) == list(range(1, len(acknowledged) + 1))
    assert numbers == sorted(acknowledged)
    # Jobs caught by the outage are retried at once, not after their 30 s leases lapse.
    wait_until(
        lambda: {v["ImageVersionStatus"] for v in versions_of(sm, "weathered")} == {"CREATED"},
        timeout=15,
    )


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


def test_image_quota_holds_across_servers(make_server, region):
    first = make_server("--max-images", "3")
    second = make_server("--max-images", "3", database_url=first.database_url)
    clients = [(first, second)[n % 2].client(region) for n in range(10)]
    barrier = threading.Barrier(len(clients))

    def attempt(numbered):
        number, client = numbered
        barrier.wait()
        try:
            client.create_image(ImageName=f"quota-{number}", RoleArn=ROLE)
            return "created"
        except ClientError as error:
            return error.response["Error"]["Code"]

    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(pool.map(attempt, enumerate(clients)))
    assert outcomes.count("created") == 3
    assert outcomes.count("ResourceLimitExceeded") == 7
    assert len(first.client(region).list_images()["Images"]) == 3
