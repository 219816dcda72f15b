"""Turning a version's BaseImage into the ContainerImage it will run.

This is the seam where a registry is consulted. With resolution off, the container image is
the base image as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Resolution:
    """Either the image to run, or why the version cannot be created."""

    container_image: str | None = None
    failure_reason: str | None = None


class Resolver(Protocol):
    async def resolve(self, base_image: str) -> Resolution: ...


class PassThrough:
    """Resolution off: trust the reference as written."""

    async def resolve(self, base_image: str) -> Resolution:
        return Resolution(container_image=base_image)
