"""Load benchmark: our server beside a bare ASGI app, same machine, same run, same load.

Starts `sagemaker-images serve` on a fresh SQLite file and a bare ASGI app (parse JSON,
answer a fixed body) under the same uvicorn settings, fills the catalog through the API,
then drives each with wrk over loopback and prints requests/s and p50/p99 latency.

    python benchmarks/load.py [--duration 10] [--connections 64] [--big 100000]

With `--postgresql URL` (a database to connect to for creating a fresh one, e.g.
postgresql://postgres@127.0.0.1:5432/postgres) the catalog lives in a new PostgreSQL
database, dropped afterwards; `--servers 2` starts two server processes on it and splits
the connections between them (one wrk per server, their rates added).

With `--side-by-side` (and `--postgresql URL`) one run serves the same catalog from a
SQLite server and a PostgreSQL server beside the bare app, alternating between the three,
and prints their rates side by side. `--job-latency` measures instead how long a new
version takes to be seen CREATED by a client polling DescribeImageVersion (transitions of
0 s, so the figure is the servers' pickup and completion), with one SQLite server, and with
`--postgresql URL` one and two PostgreSQL servers (creates sent to the first).

Needs wrk (Debian: apt-get install wrk). On a 2-core machine the server and wrk are pinned
to one core each when taskset is available, so neither steals the other's CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_call.lua"
ROLE = "arn:aws:iam::123456789012:role/Bench"
MANY_IMAGES = 64  # the images of the many-images create, named as wrk_call.lua names them


@dataclass
class Figure:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int

    def cells(self) -> str:
        return f"{self.requests_per_second:>9,.0f} {self.p50_ms:>7.2f} {self.p99_ms:>7.2f}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(command: list[str], cpu: int) -> list[str]:
    """Servers on core 0, wrk on core 1, so neither steals the other's CPU."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu), *command]
    return command


# The processes started (servers, the bare app), which `quiet` waits for.
RUNNING: list[subprocess.Popen[bytes]] = []


def quiet(most: float = 30.0) -> None:
    """Wait until every started process is idle: a run must not measure the previous run's
    leftovers (versions still completing their jobs on a server that shares the core).
    Idle: under 8% of a core over a quarter of a second; at most `most` seconds."""
    ticks_per_second = os.sysconf("SC_CLK_TCK")

    def ticks() -> int:
        total = 0
        for child in RUNNING:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total

    deadline = time.monotonic() + most
    last = ticks()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = ticks()
        if now - last <= 0.02 * ticks_per_second:
            return
        last = now


@contextmanager
def process(command: list[str], port: int, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        child = subprocess.Popen(pinned(command, 0), stdout=out, stderr=subprocess.STDOUT)
    RUNNING.append(child)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(endpoint + "/healthz", timeout=1):
                    break
            except OSError as error:
                if getattr(error, "code", None):  # any HTTP answer means it is listening
                    break
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield endpoint
    finally:
        RUNNING.remove(child)
        child.terminate()
        child.wait(30)


def call(endpoint: str, operation: str, body: dict) -> dict:
    request = urllib.request.Request(
        endpoint + "/",
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"SageMaker.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wrk(
    endpoints: list[str],
    operation: str,
    body: str,
    *,
    duration: float,
    connections: int,
) -> Figure:
    """One wrk per endpoint at once, the connections split between them; rates add up."""
    quiet()
    args = [operation, body, "", uuid.uuid4().hex[:8]]
    runs = [
        subprocess.Popen(
            pinned(
                [
                    "wrk",
                    "-t1",
                    f"-c{max(1, connections // len(endpoints))}",
                    f"-d{round(duration)}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(LUA),
                    endpoint + "/",
                    "--",
                    *args[:3],
                    f"{args[3]}-{n}",
                ],
                1,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, endpoint in enumerate(endpoints)
    ]
    summaries = []
    for run in runs:
        out, err = run.communicate()
        if run.returncode:
            raise RuntimeError(f"wrk failed: {err}")
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    return Figure(
        requests_per_second=sum(s["requests"] / (s["duration_us"] / 1e6) for s in summaries),
        p50_ms=max(s["p50_us"] for s in summaries) / 1000,
        p99_ms=max(s["p99_us"] for s in summaries) / 1000,
        failures=sum(s["non2xx"] + s["socket_errors"] for s in summaries),
    )


@contextmanager
def database(options: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """The catalog's URL: a fresh SQLite file, or a fresh PostgreSQL database."""
    if not options.postgresql:
        yield f"sqlite:///{workdir / 'catalog.db'}"
        return
    import psycopg

    name = f"smi_bench_{os.getpid()}"
    parts = urlsplit(options.postgresql)
    with psycopg.connect(options.postgresql, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(options.postgresql, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(endpoint: str, image: str, versions: int, clients: int = 16) -> float:
    """Create `versions` versions of `image` through the API; returns the seconds it took."""
    call(endpoint, "CreateImage", {"ImageName": image, "RoleArn": ROLE})
    deadline = time.monotonic() + 30
    while call(endpoint, "DescribeImage", {"ImageName": image})["ImageStatus"] != "CREATED":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{image} was not created")
        time.sleep(0.02)
    host, port = endpoint.removeprefix("http://").split(":")

    def create(count: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {
            "X-Amz-Target": "SageMaker.CreateImageVersion",
            "Content-Type": "application/x-amz-json-1.1",
        }
        for _ in range(count):
            body = {
                "ImageName": image,
                "BaseImage": "registry.example/bench:1",
                "ClientToken": str(uuid.uuid4()),
            }
            connection.request("POST", "/", json.dumps(body), headers)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"fill failed: {response.status} {payload!r}")
        connection.close()

    started = time.monotonic()
    shares = [versions // clients + (1 if i < versions % clients else 0) for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(create, shares))
    return time.monotonic() - started


SCENARIOS = [
    ("DescribeImageVersion", "DescribeImageVersion", {"ImageName": "bench-small", "Version": 50}),
    (
        "ListImageVersions, 100 versions",
        "ListImageVersions",
        {"ImageName": "bench-small", "MaxResults": 100},
    ),
    (
        "ListImageVersions, {big} versions",
        "ListImageVersions",
        {"ImageName": "bench-big", "MaxResults": 100},
    ),
    (
        "CreateImageVersion",
        "CreateImageVersion",
        {
            "ImageName": "bench-create",
            "BaseImage": "registry.example/bench:1",
            "ClientToken": "%TOKEN%",
        },
    ),
    (
        f"CreateImageVersion, {MANY_IMAGES} images",
        "CreateImageVersion",
        {
            "ImageName": "%IMAGE%",
            "BaseImage": "registry.example/bench:1",
            "ClientToken": "%TOKEN%",
        },
    ),
]


def median_figure(figures: list[Figure]) -> Figure:
    """The run with the median rate, so its latencies belong to one and the same run."""
    ranked = sorted(figures, key=lambda f: f.requests_per_second)
    middle = ranked[len(ranked) // 2]
    return Figure(
        middle.requests_per_second,
        middle.p50_ms,
        middle.p99_ms,
        sum(f.failures for f in figures),
    )


def serve_command(port: int, url: str, options: argparse.Namespace, *flags: str) -> list[str]:
    return [
        sys.executable, "-m", "sagemaker_images", "serve",
        "--port", str(port),
        "--database", url,
        "--database-pool-size", str(options.pool_size),
        "--transitions", "0",
        "--max-versions-per-image", str(options.big + 1_000_000),
        "--log-level", "warning",
        *flags,
    ]  # fmt: skip


# What the operator's view costs: each configuration's flags.
OBSERVED = {
    "defaults (access log, metrics)": (),
    "--no-access-log": ("--no-access-log",),
    "--no-access-log --no-metrics": ("--no-access-log", "--no-metrics"),
}


def metrics_cost(options: argparse.Namespace, workdir: Path) -> None:
    """Describe served with the access log and metrics, without the log, and without both,
    on servers with catalogs alike, measured in alternation."""
    commands = {
        label: lambda port, url, flags=flags: serve_command(port, url, options, *flags)
        for label, flags in OBSERVED.items()
    }
    compare(commands, "--no-access-log --no-metrics", options, workdir)


def guard_cost(options: argparse.Namespace, workdir: Path) -> None:
    """Describe served by the server as it is, and by the same server on uvicorn's own
    protocol, without the guard that bounds connections and their waits (unguarded.py)."""

    def unguarded(port: int, url: str) -> list[str]:
        command = serve_command(port, url, options)
        return [command[0], str(HERE / "unguarded.py"), *command[3:]]

    commands = {
        "guarded (as served)": lambda port, url: serve_command(port, url, options),
        "unguarded (uvicorn's protocol)": unguarded,
    }
    compare(commands, "unguarded (uvicorn's protocol)", options, workdir)


def compare(
    commands: dict[str, Any], reference: str, options: argparse.Namespace, workdir: Path
) -> None:
    """DescribeImageVersion on a server per command (each with a catalog alike), measured
    in alternation; each median beside the reference's."""
    body = json.dumps({"ImageName": "bench-small", "Version": 50})
    figures: dict[str, list[Figure]] = {label: [] for label in commands}
    with contextlib.ExitStack() as stack:
        endpoints = {}
        for n, (label, command_of) in enumerate(commands.items()):
            port = free_port()
            url = f"sqlite:///{workdir / f'compared-{n}.db'}"
            command = command_of(port, url)
            endpoints[label] = stack.enter_context(process(command, port, workdir / f"{port}.log"))
            fill(endpoints[label], "bench-small", 100)
        for _ in range(options.rounds):
            for label, endpoint in endpoints.items():
                figures[label].append(
                    wrk(
                        [endpoint],
                        "DescribeImageVersion",
                        body,
                        duration=options.duration,
                        connections=options.connections,
                    )
                )
    print(
        f"DescribeImageVersion, {options.connections} connections, median of {options.rounds}"
        f" alternating runs of {options.duration:.0f} s:"
    )
    medians = {label: median_figure(found) for label, found in figures.items()}
    base = medians[reference].requests_per_second
    for label, figure in medians.items():
        print(f"  {label:<32} {figure.cells()}  {figure.requests_per_second / base:6.1%}")
    shutil.rmtree(workdir, ignore_errors=True)


def prepare(endpoint: str, options: argparse.Namespace) -> None:
    """The catalog every scenario reads: a small image, a big one, one to create in."""
    fill(endpoint, "bench-small", 100)
    took = fill(endpoint, "bench-big", options.big)
    print(f"  filled {options.big:,} versions through CreateImageVersion in {took:.0f} s")
    call(endpoint, "CreateImage", {"ImageName": "bench-create", "RoleArn": ROLE})
    for n in range(MANY_IMAGES):  # as many as wrk_call.lua's %IMAGE% names
        call(endpoint, "CreateImage", {"ImageName": f"bench-many-{n}", "RoleArn": ROLE})


def bare_app(stack: contextlib.ExitStack, workdir: Path) -> str:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bare_app:app",
        "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning", "--no-proxy-headers",
    ]  # fmt: skip
    return stack.enter_context(process(command, port, workdir / "bare.log"))


def measure_alternating(
    targets: dict[str, list[str]], options: argparse.Namespace
) -> list[tuple[str, dict[str, Figure]]]:
    """Each scenario on each target (a name and its endpoints), the targets taking turns
    so that drifts in the machine's speed hit all alike; the median run of each."""
    results = []
    for label, operation, body in SCENARIOS:
        figures: dict[str, list[Figure]] = {name: [] for name in targets}
        for _ in range(options.rounds):
            for name, endpoints in targets.items():
                figures[name].append(
                    wrk(
                        endpoints,
                        operation,
                        json.dumps(body),
                        duration=options.duration,
                        connections=options.connections,
                    )
                )
        label = label.format(big=f"{options.big:,}")
        results.append((label, {name: median_figure(found) for name, found in figures.items()}))
        print(f"  measured {label}", flush=True)
    return results


def side_by_side(options: argparse.Namespace, workdir: Path) -> None:
    """Each scenario on SQLite, on PostgreSQL and on the bare app, in alternation."""
    with contextlib.ExitStack() as stack:
        urls = {
            "SQLite": f"sqlite:///{workdir / 'catalog.db'}",
            "PostgreSQL": stack.enter_context(database(options, workdir)),
        }
        targets: dict[str, list[str]] = {}
        for label, url in urls.items():
            port = free_port()
            command = serve_command(port, url, options)
            endpoint = stack.enter_context(process(command, port, workdir / f"{label}.log"))
            print(f"filling {label} ...", flush=True)
            prepare(endpoint, options)
            targets[label] = [endpoint]
        targets["bare app"] = [bare_app(stack, workdir)]
        time.sleep(2)
        results = measure_alternating(targets, options)
    print()
    print(
        f"{options.connections} connections; median of {options.rounds} alternating runs of"
        f" {options.duration:.0f} s; each server and the bare app pinned to one core, wrk to"
        " the other; req/s (p99 ms)"
    )
    names = list(results[0][1]) if results else []
    print(f"{'operation':<36} " + " ".join(f"{n:>18}" for n in names) + "  PostgreSQL/SQLite")
    for label, found in results:
        cells = " ".join(
            f"{f.requests_per_second:>10,.0f} ({f.p99_ms:>5.1f})" for f in found.values()
        )
        ratio = found["PostgreSQL"].requests_per_second / found["SQLite"].requests_per_second
        print(f"{label:<36} {cells}  {ratio:6.0%}")
    shutil.rmtree(workdir, ignore_errors=True)


def latencies(creator: str, poller: str, count: int) -> list[float]:
    """Seconds from each CreateImageVersion's answer (sent to `creator`) to its version
    seen CREATED through `poller`, one version at a time, polling every 2 ms."""
    image = f"latency-{uuid.uuid4().hex[:8]}"
    call(creator, "CreateImage", {"ImageName": image, "RoleArn": ROLE})
    while call(poller, "DescribeImage", {"ImageName": image})["ImageStatus"] != "CREATED":
        time.sleep(0.002)
    found = []
    for _ in range(count):
        body = {"ImageName": image, "BaseImage": "r/latency:1", "ClientToken": str(uuid.uuid4())}
        arn = call(creator, "CreateImageVersion", body)["ImageVersionArn"]
        answered = time.perf_counter()
        version = int(arn.rsplit("/", 1)[1])
        describe = {"ImageName": image, "Version": version}
        while call(poller, "DescribeImageVersion", describe)["ImageVersionStatus"] != "CREATED":
            time.sleep(0.002)
        found.append(time.perf_counter() - answered)
    return found


def job_latency(options: argparse.Namespace, workdir: Path) -> None:
    """p50 and p99 of `latencies` on SQLite and, with --postgresql, one and two servers."""
    count = options.job_latency
    setups = [("SQLite, one server", f"sqlite:///{workdir / 'latency.db'}", 1)]
    rows = []
    with contextlib.ExitStack() as stack:
        if options.postgresql:
            url = stack.enter_context(database(options, workdir))
            setups += [("PostgreSQL, one server", url, 1), ("PostgreSQL, two servers", url, 2)]
        for label, url, servers in setups:
            with contextlib.ExitStack() as running:
                endpoints = []
                for n in range(servers):
                    port = free_port()
                    command = serve_command(port, url, options)
                    log = workdir / f"latency-{len(rows)}-{n}.log"
                    endpoints.append(running.enter_context(process(command, port, log)))
                found = sorted(latencies(endpoints[0], endpoints[-1], count))
            p50 = found[len(found) // 2] * 1000
            p99 = found[min(len(found) - 1, int(len(found) * 0.99))] * 1000
            rows.append((label, p50, p99))
    print(f"\nCreateImageVersion to CREATED seen by a poller, {count} versions, transitions 0 s")
    print(f"{'setup':<28} {'p50 ms':>8} {'p99 ms':>8}")
    for label, p50, p99 in rows:
        print(f"{label:<28} {p50:>8.1f} {p99:>8.1f}")
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating runs per figure")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--big", type=int, default=100_000, help="versions of the large image")
    parser.add_argument(
        "--postgresql", metavar="URL", help="run on a fresh database of this PostgreSQL server"
    )
    parser.add_argument("--servers", type=int, default=1, help="server processes (PostgreSQL)")
    parser.add_argument("--pool-size", type=int, default=10, help="connections per server")
    parser.add_argument(
        "--metrics-cost",
        action="store_true",
        help="only DescribeImageVersion: with the defaults (access log and metrics), with"
        " --no-access-log, and with --no-metrics as well, alternating",
    )
    parser.add_argument(
        "--guard-cost",
        action="store_true",
        help="only DescribeImageVersion: the server as served, and on uvicorn's own protocol"
        " without the connection guard, alternating",
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="SQLite, PostgreSQL (--postgresql) and the bare app in the same run",
    )
    parser.add_argument(
        "--job-latency",
        type=int,
        metavar="N",
        help="only: time from CreateImageVersion to CREATED seen by a poller, N versions",
    )
    options = parser.parse_args()
    if (options.side_by_side or options.servers > 1) and not options.postgresql:
        sys.exit("several servers share a catalog only on PostgreSQL: give --postgresql URL")
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="sagemaker-images-bench-"))
    if options.metrics_cost:
        metrics_cost(options, workdir)
        return
    if options.guard_cost:
        guard_cost(options, workdir)
        return
    if options.job_latency:
        job_latency(options, workdir)
        return
    if options.side_by_side:
        side_by_side(options, workdir)
        return

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(options, workdir))
        servers = []
        for n in range(options.servers):
            port = free_port()
            server_command = serve_command(port, url, options)
            servers.append(
                stack.enter_context(process(server_command, port, workdir / f"server-{n}.log"))
            )
        bare = bare_app(stack, workdir)
        server = servers[0]
        print(f"filling: 100 versions of bench-small, {options.big:,} of bench-big ...", flush=True)
        prepare(server, options)
        time.sleep(2)
        measured = measure_alternating({"ours": servers, "bare": [bare]}, options)
        results = [(label, found["ours"], found["bare"]) for label, found in measured]

    backend = "PostgreSQL" if options.postgresql else "SQLite"
    print()
    print(
        f"{options.connections} connections; median of {options.rounds} alternating runs of"
        f" {options.duration:.0f} s; {backend}, {options.servers} server process(es) and the"
        " bare app each pinned to one core, wrk to the other"
    )
    columns = f"{'req/s':>9} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{'operation':<36} {columns} | {'bare ' + columns:>26} | share")
    for label, ours, bare_figure in results:
        rate = bare_figure.requests_per_second
        share = ours.requests_per_second / rate if rate else 0
        note = f"  ({ours.failures} failed)" if ours.failures else ""
        print(f"{label:<36} {ours.cells()} | {bare_figure.cells():>26} | {share:5.0%}{note}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
