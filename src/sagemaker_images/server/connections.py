"""Connections that cannot take the server down: uvicorn's HTTP protocol, guarded.

uvicorn closes a connection idle between requests (`--keep-alive-timeout`) and nothing
else: a client that sends part of its headers and stalls, or declares a body and never
sends it, holds its connection (and a file descriptor) for ever, and enough of them exhaust
the process's file limit so that no one else is answered. Here each connection must send
a request's headers within `--header-timeout` of connecting or of its previous answer, and
its body within `--body-timeout` of its headers; and at most `--max-connections` are open
at once (below the file limit, which the server raises to its hard limit at start). Past
that cap a new connection takes the place of the one that has waited longest for headers
it has not sent (a normal client sends its own at once, so it is the stalled that go);
when every connection is busy with a request, the new one is closed at once instead.

Deadlines are kept in insertion-ordered dictionaries and swept once a second, so that a
request pays two dictionary operations rather than a timer of its own.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sagemaker_images.config import Settings

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0
# File descriptors kept back from the connections' cap, for the database, logs and clients.
RESERVED_FILES = 128


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int
    header_seconds: float
    body_seconds: float


def raise_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as error:
            log.warning("could not raise the open-files limit from %d: %s", soft, error)
    return soft


def connection_cap(asked: int, file_limit: int) -> int:
    """The connections' cap: as asked (0: as many as the file limit leaves room for), never
    above that room."""
    room = max(16, file_limit - RESERVED_FILES)
    return room if asked <= 0 else min(asked, room)


def guard(config: Any, settings: Settings, file_limit: int) -> None:
    """Make a uvicorn Config serve guarded connections, with the settings' limits."""
    config.http = f"{__name__}:GuardedHttpProtocol"
    config.timeout_keep_alive = settings.keep_alive_timeout
    config.sagemaker_images_limits = Limits(
        connection_cap(settings.max_connections, file_limit),
        settings.header_timeout,
        settings.body_timeout,
    )


def file_limit() -> int:
    """This process's soft limit on open files."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Guard:
    """One server's connections: how many are open, and which wait for what since when."""

    def __init__(self, limits: Limits, loop: asyncio.AbstractEventLoop) -> None:
        self.limits = limits
        self.open: set[GuardedHttpProtocol] = set()
        # Waiting for a request's headers, and reading a request's body: since when.
        self.headers: dict[GuardedHttpProtocol, float] = {}
        self.bodies: dict[GuardedHttpProtocol, float] = {}
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0
        self._loop = loop
        self._sweeping: asyncio.TimerHandle | None = None

    def admit(self, connection: GuardedHttpProtocol) -> bool:
        """Whether a new connection may stay (making room for it if one is stalling)."""
        if self._sweeping is None:
            self._sweeping = self._loop.call_later(SWEEP_SECONDS, self._sweep)
        if len(self.open) >= self.limits.max_connections:
            if not self.headers:
                self.refused += 1
                return False
            oldest = next(iter(self.headers))
            self._close(oldest)
            self.evicted += 1
        self.open.add(connection)
        self.headers[connection] = time.monotonic()
        return True

    def gone(self, connection: GuardedHttpProtocol) -> None:
        self.open.discard(connection)
        self.headers.pop(connection, None)
        self.bodies.pop(connection, None)

    def _close(self, connection: GuardedHttpProtocol) -> None:
        self.gone(connection)
        connection.transport.close()

    def _sweep(self) -> None:
        now = time.monotonic()
        for waiting, allowed in (
            (self.headers, self.limits.header_seconds),
            (self.bodies, self.limits.body_seconds),
        ):
            expired = []
            for connection, since in waiting.items():  # oldest first
                if now - since < allowed:
                    break
                expired.append(connection)
            for connection in expired:
                self._close(connection)
                self.timed_out += 1
        self._sweeping = self._loop.call_later(SWEEP_SECONDS, self._sweep)

    def stop(self) -> None:
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol under a `Guard`: its Config carries the `Limits` (as
    `sagemaker_images_limits`), its server state the one guard of the server."""

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        guard = getattr(server_state, "sagemaker_images_guard", None)
        if guard is None:
            guard = Guard(config.sagemaker_images_limits, self.loop)
            server_state.sagemaker_images_guard = guard
        self._guard: Guard = guard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._guard.admit(self):
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.gone(self)
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        guard = self._guard
        guard.headers.pop(self, None)
        if self.parser.should_upgrade() is False and _has_body(self.headers):
            guard.bodies[self] = time.monotonic()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._guard.bodies.pop(self, None)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self in self._guard.open:
            self._guard.headers[self] = time.monotonic()  # waiting for the next request


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-length":
            return value != b"0"
        if name == b"transfer-encoding":
            return True
    return False
