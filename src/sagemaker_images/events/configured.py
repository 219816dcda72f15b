"""The sinks a server's settings name, registered in its database at start."""

from __future__ import annotations

import logging

from sagemaker_images.config import Settings
from sagemaker_images.events.delivery import Deliveries
from sagemaker_images.events.eventbridge import EventBridgeSink
from sagemaker_images.events.sinks import KEPT, Sink
from sagemaker_images.events.webhook import WebhookSink
from sagemaker_images.store import Store

log = logging.getLogger(__name__)


def sinks_of(settings: Settings) -> list[Sink]:
    found: list[Sink] = [
        WebhookSink(url, settings.events_webhook_secret, settings.events_source)
        for url in dict.fromkeys(settings.events_webhooks)
    ]
    if settings.events_eventbridge:
        found.append(
            EventBridgeSink(
                settings.events_eventbridge,
                settings.events_bus,
                settings.default_region,
                settings.events_source,
            )
        )
    return found


async def open_sinks(settings: Settings, store: Store, now_ms: int) -> Deliveries:
    """Give the store the sinks to write events for (the control API's kept events too,
    when it is served) and the server their delivery jobs. Nothing is sent here: a sink
    that is not up yet gets its events once it is. Where this server is the database's
    only one (SQLite), a sink it is no longer given is retired at once, with its
    undelivered events; elsewhere once no server has named it for a while."""
    sinks = sinks_of(settings)
    names = [sink.name for sink in sinks]
    named = [*names, *([KEPT] if settings.control_api else [])]
    async with store.transaction() as tx:
        ids = await tx.events.register(named, now_ms)
        retired = []
        if store.single_instance:
            retired = await tx.events.retire(now_ms, [ids[name] for name in named])
    if retired:
        log.info("events: no longer sending to %s; their undelivered events are dropped", retired)
    store.sinks.set([ids[name] for name in named], [ids[name] for name in names])
    for sink in sinks:
        log.info("events: sending to %s", sink.label)
    return Deliveries(
        {ids[sink.name]: sink for sink in sinks},
        named=tuple(named),
        lease_seconds=settings.job_lease_seconds,
    )


def kept_sink(store: Store) -> int | None:
    """The number of the control API's kept events, if they are kept."""
    delivered = set(store.sinks.delivered)
    kept = [sink for sink in store.sinks.recorded if sink not in delivered]
    return kept[0] if kept else None
