"""Drift: CREATED versions whose tag now points at another digest than the one pinned.

Each distinct BaseImage is asked for once, however many versions name it, a few at a time.
A version whose reference cannot be resolved now is reported too (with why), since its tag
no longer leads to the pinned image either; versions never pinned (created with resolution
off) and versions whose BaseImage is a digest cannot drift and are skipped.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from sagemaker_images.registry.client import RegistryClient, RegistryError, RegistryUnavailable
from sagemaker_images.registry.reference import MalformedReference, Reference, parse_reference
from sagemaker_images.store import Store

PAGE = 500
CONCURRENCY = 8
TRIES = 3


@dataclass(frozen=True, slots=True)
class Drift:
    account: str
    region: str
    image: str
    version: int
    base_image: str
    pinned: str  # the digest the version was pinned to
    current: str | None  # the digest the tag points at now, or None if it cannot be resolved
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Report:
    drifted: list[Drift]
    checked: int  # CREATED versions pinned to a digest through a tag: those that could drift


async def find_drift(store: Store, client: RegistryClient) -> Report:
    candidates: list[tuple[tuple[Any, ...], Reference, str]] = []
    after: tuple[int, int] | None = None
    while True:
        rows = await store.reader.versions.created(after, PAGE)
        for row in rows:
            base_image, container_image = row[5], row[6]
            pinned = _pinned_digest(container_image)
            if pinned is None:
                continue
            try:
                ref = parse_reference(base_image)
            except MalformedReference:
                continue
            if ref.digest is None:
                candidates.append((row, ref, pinned))
        if len(rows) < PAGE:
            break
        after = (rows[-1][0], rows[-1][1])
    current = await _resolve_all({str(ref): ref for _, ref, _ in candidates}, client)
    drifted = []
    for row, ref, pinned in candidates:
        digest, error = current[str(ref)]
        if digest != pinned:
            drifted.append(
                Drift(
                    account=row[2],
                    region=row[3],
                    image=row[4],
                    version=row[1],
                    base_image=row[5],
                    pinned=pinned,
                    current=digest,
                    error=error,
                )
            )
    return Report(drifted, len(candidates))


def _pinned_digest(container_image: str | None) -> str | None:
    if not container_image or "@" not in container_image:
        return None
    return container_image.rsplit("@", 1)[1]


async def _resolve_all(
    refs: dict[str, Reference], client: RegistryClient
) -> dict[str, tuple[str | None, str | None]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(ref: Reference) -> tuple[str | None, str | None]:
        async with gate:
            for attempt in range(1, TRIES + 1):
                try:
                    return await client.digest(ref), None
                except RegistryUnavailable as error:
                    if attempt == TRIES:
                        return None, f"unreachable after {TRIES} tries (last: {error})"
                    await asyncio.sleep(0.5 * attempt)
                except RegistryError as error:
                    return None, str(error)
            raise AssertionError("unreachable")

    keys = list(refs)
    results = await asyncio.gather(*(one(refs[key]) for key in keys))
    return dict(zip(keys, results, strict=True))
