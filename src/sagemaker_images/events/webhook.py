"""The webhook sink: each event POSTed as JSON (EventBridge's envelope), signed with
HMAC-SHA256 when a secret is set; any 2xx answer is a delivery, anything else a refusal."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Sequence

import orjson

from sagemaker_images.events.envelope import SOURCE, envelope
from sagemaker_images.events.posting import Poster, PostFailed
from sagemaker_images.events.sinks import Sent, Sink, shown_url
from sagemaker_images.store.events import StoredEvent

SIGNATURE_HEADER = "X-SageMaker-Images-Signature"
EVENT_ID_HEADER = "X-SageMaker-Images-Event-Id"
# Events of one wave POSTed at once (each to a different resource).
CONCURRENT_POSTS = 16
TIMEOUT_SECONDS = 10.0


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the body under the secret (GitHub's form)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSink(Sink):
    def __init__(self, url: str, secret: str = "", source: str = SOURCE) -> None:
        self.url = url
        self.label = f"webhook {shown_url(url)}"
        # The whole URL may hold a token: the database keeps a digest of it.
        self.name = f"{self.label} {hashlib.sha256(url.encode()).hexdigest()[:16]}"
        self._secret = secret
        self._source = source
        self._poster = Poster(url, connections=CONCURRENT_POSTS, timeout=TIMEOUT_SECONDS)

    async def send(self, wave: Sequence[StoredEvent]) -> Sent:
        """POST the wave, CONCURRENT_POSTS at a time; after a round with a refusal, the
        rest waits for the next try (a webhook that is down costs one round's timeout,
        not one for each event)."""
        sent = Sent()
        for start in range(0, len(wave), CONCURRENT_POSTS):
            chunk = wave[start : start + CONCURRENT_POSTS]
            failures = await asyncio.gather(*(self._post(stored) for stored in chunk))
            for stored, failure in zip(chunk, failures, strict=True):
                if failure is None:
                    sent.delivered.append(stored.id)
                elif sent.failure is None:
                    sent.failure = failure
            if sent.failure is not None:
                break
        return sent

    async def _post(self, stored: StoredEvent) -> str | None:
        body = orjson.dumps(envelope(stored, self._source))
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: stored.uuid}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        try:
            status = await self._poster.post(body, headers)
        except PostFailed as error:
            return str(error)
        return None if 200 <= status < 300 else f"HTTP {status}"

    async def close(self) -> None:
        await self._poster.close()
