"""The yardstick: an ASGI app that only reads the body, parses the JSON, answers a fixed body.

Whatever our server does beyond this (validation, the database, the response) is its cost.
"""

from __future__ import annotations

from typing import Any

import orjson

BODY = b'{"ImageVersionArn":"arn:aws:sagemaker:us-east-1:123456789012:image-version/bench/1"}'
HEADERS = [
    (b"content-type", b"application/x-amz-json-1.1"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    orjson.loads(b"".join(chunks) or b"{}")
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
