"""The EventBridge sink: events put on a bus with PutEvents, signed with SigV4 from the
usual AWS credential chain (environment, shared files, instance roles; where it finds none,
with a placeholder key that emulators accept, and a warning), at most 10 entries and
256 KB a call; the entries a partial failure names are sent again later.

PutEvents has no way to set the envelope's `id` (EventBridge makes its own on each put), so
the outbox's stable id travels in the detail as `EventId`: what a consumer behind
EventBridge de-duplicates on.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Sequence
from typing import Any

import orjson

from sagemaker_images.events.envelope import DETAIL_TYPES, SOURCE, detail, resource_arn
from sagemaker_images.events.sinks import Sent, Sink, shown_url
from sagemaker_images.store.events import StoredEvent

log = logging.getLogger(__name__)

# What PutEvents is signed with where the credential chain has nothing.
PLACEHOLDER_KEY = "sagemaker-images"
MOST_ENTRIES = 10
MOST_BYTES = 256 * 1024
EVENT_ID = "EventId"


def entry(stored: StoredEvent, bus: str, source: str = SOURCE) -> dict[str, Any]:
    event = stored.event
    found = detail(event)
    found[EVENT_ID] = stored.uuid
    return {
        "Time": datetime.datetime.fromtimestamp(event.created_ms // 1000, datetime.UTC),
        "Source": source,
        "Resources": [resource_arn(event)],
        "DetailType": DETAIL_TYPES[event.kind],
        "Detail": orjson.dumps(found).decode(),
        "EventBusName": bus,
    }


def entry_size(item: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against the 256 KB of a call."""
    size = 14  # the time
    for key in ("Source", "DetailType", "Detail"):
        size += len(item[key].encode())
    return size + sum(len(r.encode()) for r in item["Resources"])


def batches(items: Sequence[dict[str, Any]]) -> list[list[int]]:
    """The entries' indexes, in order, cut into calls of at most 10 entries and 256 KB."""
    found: list[list[int]] = []
    size = 0
    for index, item in enumerate(items):
        item_size = entry_size(item)
        if not found or len(found[-1]) == MOST_ENTRIES or size + item_size > MOST_BYTES:
            found.append([])
            size = 0
        found[-1].append(index)
        size += item_size
    return found


class EventBridgeSink(Sink):
    def __init__(self, endpoint_url: str, bus: str, region: str, source: str = SOURCE) -> None:
        import boto3
        from botocore.config import Config

        self.name = f"eventbridge {endpoint_url} {bus}"
        self.label = f"eventbridge {shown_url(endpoint_url)} {bus}"
        self._bus = bus
        self._source = source
        session = boto3.session.Session()
        config = Config(
            retries={"total_max_attempts": 1},  # retried here, with the outbox's backoff
            connect_timeout=5,
            read_timeout=10,
        )
        keys: dict[str, str] = {}
        if session.get_credentials() is None:
            # Emulators (moto, LocalStack) take any key but want a signature; AWS refuses
            # this one, and the refusal is retried and shown like any other.
            log.warning(
                "events: no AWS credentials found; PutEvents to %s is signed with the"
                " placeholder key %r, which emulators accept and AWS refuses",
                endpoint_url,
                PLACEHOLDER_KEY,
            )
            keys = {"aws_access_key_id": PLACEHOLDER_KEY, "aws_secret_access_key": PLACEHOLDER_KEY}
        self.placeholder = bool(keys)
        self._client = session.client(
            "events",
            endpoint_url=endpoint_url,
            region_name=session.region_name or region,
            config=config,
            **keys,
        )

    async def send(self, wave: Sequence[StoredEvent]) -> Sent:
        items = [entry(stored, self._bus, self._source) for stored in wave]
        sent = Sent()
        for indexes in batches(items):
            try:
                answer = await asyncio.to_thread(
                    self._client.put_events, Entries=[items[i] for i in indexes]
                )
            except Exception as error:  # unreachable, no credentials, refused outright
                sent.failure = sent.failure or f"PutEvents: {error}"
                break  # the rest at the next try
            for index, result in zip(indexes, answer.get("Entries", ()), strict=False):
                if result.get("ErrorCode"):
                    failure = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
                    sent.failure = sent.failure or f"PutEvents entry {failure}"
                else:
                    sent.delivered.append(wave[index].id)
        return sent

    async def close(self) -> None:
        self._client.close()
