"""How soon state-change events reach a webhook under a burst of creates.

    python benchmarks/events.py [--versions 500] [--threads 8] [--postgresql URL]

Starts the server (SQLite, transitions of 0 s; with `--postgresql`, also on a fresh
PostgreSQL database) with `--events-webhook` pointing at a receiver in this process, sends
a burst of CreateImageVersion calls from several threads over 4 images, and prints, per
backend, p50 and p99 of:
- the create calls themselves, in the burst (the reference: what a caller waits anyway);
- from each call's answer to its version's CREATING event at the webhook;
- from each call's answer to its CREATED event at the webhook.
A negative figure means the event arrived before the client had read its answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import call, database, free_port, process, serve_command

ROLE = "arn:aws:iam::123456789012:role/Bench"
IMAGES = 4


class _Listener(ThreadingHTTPServer):
    # http.server's backlog of 5 drops the SYNs of a burst of new connections, and each
    # dropped one is tried again a second later: a second's stall that is no one's but
    # the receiver's.
    request_queue_size = 128
    daemon_threads = True


class Receiver:
    """Keeps the arrival time of each (resource, status) it is POSTed."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                at = time.perf_counter()
                event = json.loads(body)
                detail = event["detail"]
                status = detail.get("ImageVersionStatus") or detail.get("ImageStatus")
                with receiver.lock:
                    receiver.arrived.setdefault((event["resources"][0], status), at)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = _Listener(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def wait_for(self, keys: list[tuple[str, str]], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(key in self.arrived for key in keys):
                    return
            time.sleep(0.01)
        raise RuntimeError("the events did not all arrive")


def burst(endpoint: str, versions: int, threads: int) -> dict[str, tuple[float, float]]:
    """Each version's ARN: (when its call was sent, when it was answered)."""
    names = [f"burst-{n}" for n in range(IMAGES)]
    for name in names:
        call(endpoint, "CreateImage", {"ImageName": name, "RoleArn": ROLE})
    for name in names:
        while call(endpoint, "DescribeImage", {"ImageName": name})["ImageStatus"] != "CREATED":
            time.sleep(0.01)
    made: dict[str, tuple[float, float]] = {}
    numbers = iter(range(versions))
    lock = threading.Lock()

    def work() -> None:
        for n in numbers:
            body = {
                "ImageName": names[n % IMAGES],
                "BaseImage": f"r/burst:{n}",
                "ClientToken": str(uuid.uuid4()),
            }
            sent = time.perf_counter()
            arn = call(endpoint, "CreateImageVersion", body)["ImageVersionArn"]
            with lock:
                made[arn] = (sent, time.perf_counter())

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return made


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"{p50:>8.1f} {p99:>8.1f}"


def measure(label: str, url: str, options: argparse.Namespace, workdir: Path) -> list[str]:
    receiver = Receiver()
    port = free_port()
    command = serve_command(port, url, options, "--events-webhook", receiver.url)
    with process(command, port, workdir / f"{label}.log") as endpoint:
        made = burst(endpoint, options.versions, options.threads)
        receiver.wait_for([(arn, s) for arn in made for s in ("CREATING", "CREATED")])
    receiver.server.shutdown()
    calls = [answered - sent for sent, answered in made.values()]
    creating = [receiver.arrived[(a, "CREATING")] - made[a][1] for a in made]
    created = [receiver.arrived[(a, "CREATED")] - made[a][1] for a in made]
    return [
        f"{label:<12} {'the create calls (reference)':<34} {percentiles(calls)}",
        f"{label:<12} {'answer to CREATING at the webhook':<34} {percentiles(creating)}",
        f"{label:<12} {'answer to CREATED at the webhook':<34} {percentiles(created)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgresql", metavar="URL", help="also on a fresh database here")
    options = parser.parse_args()
    options.pool_size, options.big = 10, 0
    workdir = Path(tempfile.mkdtemp(prefix="smi-events-"))
    rows = []
    try:
        rows += measure("SQLite", f"sqlite:///{workdir / 'events.db'}", options, workdir)
        if options.postgresql:
            with contextlib.ExitStack() as stack:
                url = stack.enter_context(database(options, workdir))
                rows += measure("PostgreSQL", url, options, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{options.versions} CreateImageVersion calls from {options.threads} threads")
    print(f"{'backend':<12} {'milliseconds':<34} {'p50':>8} {'p99':>8}")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
