"""The few pieces of HTTP the server speaks itself, over raw ASGI: request ids, reading a
body within its limit, sending an answer."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sagemaker_images.errors import RequestTooLarge

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON_11 = b"application/x-amz-json-1.1"
JSON = b"application/json"


class RequestIds:
    """UUID-shaped request ids: random per process, then a counter (uuid4 per call is slow)."""

    def __init__(self) -> None:
        head = uuid.uuid4().hex
        self._prefix = f"{head[:8]}-{head[8:12]}-4{head[13:16]}-{head[16:20]}-"
        self._counter = itertools.count(int(head[20:], 16) & 0xFFFFFFFF)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


async def read_body(receive: Receive, declared_length: int, limit: int) -> bytes:
    """The whole body, refused (RequestTooLarge) once it is known to exceed `limit`."""
    if declared_length > limit:
        raise too_large(declared_length, limit)
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def too_large(size: int, limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"Request body of {size} bytes exceeds the limit of {limit} bytes.")


def declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


def header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Send, status: int, body: bytes, request_id: str, content_type: bytes = JSON_11
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-amzn-requestid", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def respond_redirect(send: Send, location: str, request_id: str) -> None:
    """302 to a path of this server."""
    await send(
        {
            "type": "http.response.start",
            "status": 302,
            "headers": [
                (b"location", location.encode()),
                (b"content-length", b"0"),
                (b"x-amzn-requestid", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
