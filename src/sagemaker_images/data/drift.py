"""Drift: CREATED versions whose tag now points at another digest than the one pinned,
and the apps that run them.

Each distinct BaseImage is asked for once, however many versions name it, a few at a time.
A version whose reference cannot be resolved now is reported too (with why), since its tag
no longer leads to the pinned image either; versions never pinned (created with resolution
off) and versions whose BaseImage is a digest cannot drift and are skipped. What a check
finds is kept in the catalog (`record`), for the web catalog to show beside the versions
and the apps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sagemaker_images.registry.client import RegistryClient, RegistryError, RegistryUnavailable
from sagemaker_images.registry.reference import MalformedReference, Reference, parse_reference
from sagemaker_images.resources.kinds import APP
from sagemaker_images.resources.states import APP_LIVE
from sagemaker_images.store import Reads, Store
from sagemaker_images.store.drift import DriftFinding

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
    apps: tuple[str, ...] = ()  # the ARNs of the live apps that launched this version
    image_id: int = field(default=0, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "region": self.region,
            "image": self.image,
            "version": self.version,
            "base_image": self.base_image,
            "pinned": self.pinned,
            "current": self.current,
            "error": self.error,
            "apps": list(self.apps),
        }


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
                    apps=await _running(store.reader, row[2], row[3], row[4], row[1]),
                    image_id=row[0],
                )
            )
    return Report(drifted, len(candidates))


async def _running(
    reads: Reads, account: str, region: str, image: str, version: int
) -> tuple[str, ...]:
    apps = await reads.of(APP).matching(
        account, region, runs_image=image.lower(), runs_version=version
    )
    return tuple(APP.arn_of(app) for app in apps if app.status in APP_LIVE)


async def record(store: Store, report: Report, now_ms: int) -> None:
    """Keep what a check found, in place of what the last one did."""
    async with store.transaction() as tx:
        await tx.drift.replace(
            [
                DriftFinding(d.image_id, d.version, d.pinned, d.current, d.error, now_ms)
                for d in report.drifted
            ]
        )


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
