"""Turning a version's BaseImage into the ContainerImage it will run.

This is the seam where a registry is consulted. With resolution off, the container image is
the base image as given; with resolution required, the BaseImage is resolved against its
registry and the version is pinned to the digest its tag points at now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sagemaker_images.config import Settings
from sagemaker_images.registry.client import RegistryClient, RegistryRefused, RegistryUnavailable
from sagemaker_images.registry.config import load_registries
from sagemaker_images.registry.reference import MalformedReference, parse_reference

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resolution:
    """Either the image to run, or why the version cannot be created."""

    container_image: str | None = None
    failure_reason: str | None = None


class TransientFailure(Exception):
    """Resolution could not be decided this time (the registry is unreachable): try later.

    The worker retries the job with backoff for a bounded time, then records
    `reason_after(tries)` as the version's FailureReason.
    """

    def __init__(self, base_image: str, host: str, why: str) -> None:
        super().__init__(f"BaseImage {base_image}: registry {host}: {why}")
        self.base_image = base_image
        self.host = host
        self.why = why

    def reason_after(self, tries: int) -> str:
        return (
            f"BaseImage {self.base_image} could not be resolved: registry {self.host}"
            f" unreachable after {tries} {'try' if tries == 1 else 'tries'} (last: {self.why})"
        )


class Resolver(Protocol):
    async def resolve(self, base_image: str) -> Resolution: ...

    async def close(self) -> None: ...


class PassThrough:
    """Resolution off: trust the reference as written."""

    async def resolve(self, base_image: str) -> Resolution:
        return Resolution(container_image=base_image)

    async def close(self) -> None:
        return None


# (outcome: pinned, not_found, unauthorized, refused, unreachable or malformed; seconds)
Observe = Callable[[str, float], None]


class RegistryResolver:
    """Resolution required: pin to the digest the registry reports, or fail the version."""

    def __init__(self, client: RegistryClient, observe: Observe | None = None) -> None:
        self._client = client
        self._observe = observe or (lambda outcome, seconds: None)

    async def resolve(self, base_image: str) -> Resolution:
        started = time.monotonic()
        try:
            ref = parse_reference(base_image)
        except MalformedReference as error:
            self._observe("malformed", time.monotonic() - started)
            return Resolution(
                failure_reason=f"BaseImage {base_image} is not a valid image reference: {error}"
            )
        try:
            digest = await self._client.digest(ref)
        except RegistryUnavailable as error:
            self._observe("unreachable", time.monotonic() - started)
            raise TransientFailure(base_image, ref.host, str(error)) from None
        except RegistryRefused as error:
            self._observe(error.outcome, time.monotonic() - started)
            reason = f"BaseImage {base_image} could not be resolved at registry {ref.host}: {error}"
            log.info("%s", reason)
            return Resolution(failure_reason=reason)
        self._observe("pinned", time.monotonic() - started)
        log.info("BaseImage %s resolved to %s", base_image, digest)
        return Resolution(container_image=ref.pinned(digest))

    async def close(self) -> None:
        await self._client.close()


def build_resolver(settings: Settings, observe: Observe | None = None) -> Resolver:
    """The resolver the settings ask for; a bad registries file raises RegistriesFileError."""
    registries = load_registries(settings.registries_file)
    if settings.resolve == "off":
        return PassThrough()
    if settings.resolve == "required":
        return RegistryResolver(RegistryClient(registries), observe)
    raise ValueError(f"unknown resolution policy {settings.resolve!r} (expected off or required)")
