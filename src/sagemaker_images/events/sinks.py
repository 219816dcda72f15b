"""Where events go. A sink is handed a wave of events, at most one per resource, and says
which it has; what it could not take is sent again later (delivery.py keeps the order)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from sagemaker_images.store.events import StoredEvent

# The sink the control API reads (`GET /_sagemaker-images/events`): kept, never sent.
KEPT = "kept"


@dataclass(slots=True)
class Sent:
    """Of a wave: the outbox ids of the events the sink took, and why it refused the rest
    (None if it took them all)."""

    delivered: list[int] = field(default_factory=list)
    failure: str | None = None


class Sink(ABC):
    """A destination: `name` identifies it in the database (every server given the same
    setting names it alike); `label` is how metrics and logs show it (no credentials)."""

    name: str
    label: str

    @abstractmethod
    async def send(self, wave: Sequence[StoredEvent]) -> Sent: ...

    @abstractmethod
    async def close(self) -> None:
        """Let go of connections."""


def shown_url(url: str) -> str:
    """The URL without user information, query or fragment: what may appear in metrics."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
