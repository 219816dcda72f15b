"""The ASGI application driven directly: no process, no sockets, no uvicorn.

`InProcessApp` runs the real `Application` (store, worker, dispatcher, SigV4) on an event
loop of its own in a background thread. Tests reach it the way clients reach a server:
boto3 clients whose requests are handed to the application instead of being sent (botocore's
`before-send` event, after serialising and signing), and raw calls that build the ASGI
request themselves. Everything below the HTTP server is the code that serves users.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from support import Server

from sagemaker_images.config import Settings
from sagemaker_images.server.app import Application

T = TypeVar("T")

ENDPOINT = "http://sagemaker-images.inprocess"


class _Body(io.BytesIO):
    """A response body as botocore reads it from urllib3."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


class LoopThread:
    """An event loop running in a thread of its own, for code that lives on a loop (a store,
    an application) driven from synchronous tests."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Awaitable[T], timeout: float = 60) -> T:
        """Run a coroutine on the loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    @property
    def closed(self) -> bool:
        return self._loop.is_closed()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


class InProcessApp(Server):
    """`clock`: the catalog's clock (epoch milliseconds), when a test sets the time."""

    def __init__(self, settings: Settings, clock: Callable[[], int] | None = None) -> None:
        self.settings = settings
        timing = {} if clock is None else {"clock": clock}
        self.application = Application(settings, own_process=False, **timing)
        self.endpoint = ENDPOINT
        self._loop = LoopThread()

    def start(self) -> InProcessApp:
        self.run(self.application.startup())
        return self

    def stop(self) -> None:
        """Shut the application down (as a server's shutdown would); once is enough."""
        if self._loop.closed:
            return
        try:
            self.run(self.application.shutdown())
        finally:
            self._loop.close()

    def run(self, coroutine: Awaitable[T], timeout: float = 60) -> T:
        """Run a coroutine on the application's loop (its store lives there) and wait."""
        return self._loop.run(coroutine, timeout)

    @property
    def store(self) -> Any:
        return self.application.store

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        raw_path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        """The request handed to the application as uvicorn would hand it over."""
        return self.run(self._handle(method, raw_path, query, headers, body))

    async def _handle(self, *request: Any) -> tuple[int, dict[str, str], bytes]:
        method, raw_path, query, headers, body = request
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "http",
            "method": method,
            "path": raw_path.decode("latin-1"),
            "raw_path": raw_path,
            "query_string": query,
            "headers": [(name.lower(), value) for name, value in headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        sent = False
        status = 0
        answer_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # no disconnect: the app never reads twice
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answer_headers.update(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                )
            else:
                chunks.append(message.get("body", b""))

        await self.application(scope, receive, send)
        return status, answer_headers, b"".join(chunks)

    def client(self, region: str = "us-east-1", **options: Any) -> Any:
        """A boto3 client whose requests this application answers, not a socket."""
        client = super().client(region, **options)
        client.meta.events.register("before-send", self._answer)
        return client

    def _answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        headers = [
            (name.encode("latin-1"), value if isinstance(value, bytes) else value.encode())
            for name, value in request.headers.items()
        ]
        if not any(name.lower() == b"host" for name, _ in headers):
            headers.append((b"host", url.netloc.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        status, answer_headers, payload = self.request(
            request.method, (url.path or "/").encode(), url.query.encode(), headers, body
        )
        return AWSResponse(request.url, status, answer_headers, _Body(payload))
