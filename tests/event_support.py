"""A webhook receiver for the events tests: a real HTTP server on loopback, in a thread,
that keeps what it is sent and answers with the status a test sets."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from support import free_port, wait_until

IMAGE_CHANGE = "SageMaker Image State Change"
VERSION_CHANGE = "SageMaker Image Version State Change"


class _Listener(ThreadingHTTPServer):
    # http.server's backlog of 5 drops the SYNs of a burst of new connections, and each
    # dropped one is tried again a second later: a second's stall that is no one's but
    # the receiver's.
    request_queue_size = 128
    daemon_threads = True


class Receiver:
    """POSTs to `url` are kept (`received`: (headers, event) in arrival order) while
    `status` is 2xx; any other status is answered and the POST not kept."""

    def __init__(self, port: int = 0) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes, dict[str, Any]]] = []
        self.refused = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.status
                with receiver._lock:
                    if 200 <= status < 300:
                        headers = dict(self.headers.items())
                        receiver.received.append((headers, body, json.loads(body)))
                    else:
                        receiver.refused += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = _Listener(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [event for _, _, event in self.received]

    def wait_for(
        self, enough: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
    ) -> list[dict[str, Any]]:
        """The events received, once `enough` says so (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if enough(events):
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"after {timeout}s, {len(events)} event(s): {events[-3:]}")
            time.sleep(0.05)


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    """`check()`'s value once it no longer raises AssertionError (the last one after
    `timeout`): for what is recorded just after a receiver has its events."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def status_of(event: dict[str, Any]) -> str:
    detail = event["detail"]
    return str(detail.get("ImageStatus") or detail["ImageVersionStatus"])


def story(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(resource ARN's last part, status) of each event, in order."""
    return [(e["resources"][0].split(":", 5)[5], status_of(e)) for e in events]


def per_resource(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each resource's statuses in the order its events arrived (a sink keeps each
    resource's order, not the order between resources)."""
    found: dict[str, list[str]] = {}
    for resource, status in story(events):
        found.setdefault(resource, []).append(status)
    return found


def unique(events: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """The events without repeats (a consumer's de-duplication by the stable id), first
    arrivals kept, in order."""
    seen: set[str] = set()
    found = []
    for event in events:
        ident = event[key] if key == "id" else event["detail"][key]
        if ident not in seen:
            seen.add(ident)
            found.append(event)
    return found


@contextlib.contextmanager
def moto_server(workdir: Path) -> Iterator[str]:
    """moto in server mode (EventBridge, SQS, ...) on a port of its own: its endpoint."""
    port = free_port()
    program = str(Path(sys.executable).parent / "moto_server")
    with (workdir / "moto.log").open("wb") as log:
        process = subprocess.Popen(
            [program, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(endpoint), timeout=60, interval=0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).close()
    except OSError:
        return False
    return True
