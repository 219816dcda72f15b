"""`--metrics-address HOST:PORT`: the metrics on a port of their own, as exporters serve
them (no signature asked: bind it where only the scraper reaches). A minimal HTTP/1.1
server on the application's own event loop, for one route: `GET /metrics`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sagemaker_images.config import parse_address
from sagemaker_images.server.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)
READ_TIMEOUT_SECONDS = 10


class MetricsServer:
    def __init__(self, address: str, exposition: Callable[[], Awaitable[bytes]]) -> None:
        self._host, self._port = parse_address(address)
        self._exposition = exposition
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        log.info("metrics at http://%s:%d/metrics", self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                request = await reader.readuntil(b"\r\n\r\n")
            method, path, *_ = [*request.split(b"\r\n", 1)[0].split(b" "), b"", b""]
            if method == b"GET" and path.split(b"?")[0] == b"/metrics":
                status, content_type, body = b"200 OK", CONTENT_TYPE, await self._exposition()
            else:
                status, content_type, body = b"404 Not Found", b"text/plain", b"GET /metrics\n"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type
                + b"\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n" + body
            )  # fmt: skip
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
