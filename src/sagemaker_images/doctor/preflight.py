"""The preflight of an image version: which image to read, read once per manifest, checked
for each app section. One `Preflight` serves a process (the CLI's `doctor`, the server's
control API, web catalog and launches): it keeps the facts of the last images read.

The reading runs on a thread with an event loop of its own: decompressing a layer is work
for the processor, and the server's loop must go on answering calls meanwhile. Catalog
lookups stay on the caller's loop, where its store lives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sagemaker_images.catalog.app_image_configs import require_app_image_config
from sagemaker_images.catalog.versions import require_version
from sagemaker_images.context import RequestContext
from sagemaker_images.doctor.checks import CONFIG_MEMBERS, AppInput, Subject, examine
from sagemaker_images.doctor.facts import ImageFacts
from sagemaker_images.doctor.read import Limits, read_image
from sagemaker_images.doctor.report import Report
from sagemaker_images.errors import ValidationError
from sagemaker_images.registry.client import RegistryClient, RegistryRefused, RegistryUnavailable
from sagemaker_images.registry.config import Registries
from sagemaker_images.registry.reference import MalformedReference, Reference, parse_reference
from sagemaker_images.store import Reads

CACHED_IMAGES = 8
APP_TYPES = tuple(CONFIG_MEMBERS)


@dataclass(frozen=True, slots=True)
class Request:
    account: str
    region: str
    image_name: str
    version: int | None = None
    alias: str | None = None
    app_image_config: str | None = None
    app_type: str | None = None


class Preflight:
    def __init__(self, registries: Registries, limits: Limits | None = None) -> None:
        self._registries = registries
        self._limits = limits or Limits()
        self._cache: OrderedDict[tuple[str, str], ImageFacts] = OrderedDict()
        self._lock = threading.Lock()

    async def report(self, reads: Reads, request: Request) -> Report:
        """The report of the version the request names; the catalog's ResourceNotFound when
        the image, version, alias or AppImageConfig is not there, a ValidationError when
        the request or the version's reference cannot be used."""
        subject, apps, ref, tag = await self.inputs(reads, request)
        facts, moved = await asyncio.to_thread(self._read_on_own_loop, ref, tag)
        if moved is not None:
            facts = dataclasses.replace(facts, moved=moved)
        return examine(subject, facts, apps)

    async def inputs(
        self, reads: Reads, request: Request
    ) -> tuple[Subject, list[AppInput], Reference, Reference | None]:
        ctx = RequestContext(request.account, request.region, "")
        if request.app_type is not None and request.app_type not in APP_TYPES:
            raise ValidationError(
                f"AppType {request.app_type} is not one the preflight checks: "
                + ", ".join(APP_TYPES)
            )
        selector: dict[str, Any] = {"ImageName": request.image_name}
        if request.version is not None:
            selector["Version"] = request.version
        if request.alias is not None:
            selector["Alias"] = request.alias
        image, version = await require_version(reads, ctx, selector)
        config = None
        if request.app_image_config is not None:
            config = await require_app_image_config(reads, ctx, request.app_image_config)
        subject = Subject(
            request.account,
            request.region,
            image.name,
            version.version,
            version.base_image,
            version.container_image or version.base_image,
        )
        apps = _apps(config, request.app_type)
        pinned = version.container_image if "@" in (version.container_image or "") else None
        try:
            ref = parse_reference(pinned or version.base_image)
            base = parse_reference(version.base_image)
        except MalformedReference as error:
            raise ValidationError(
                f"ImageVersion {version.version} of Image {image.name} names no image the"
                f" preflight can read: {error}"
            ) from None
        return subject, apps, ref, base if pinned and base.tag else None

    def _read_on_own_loop(
        self, ref: Reference, tag: Reference | None
    ) -> tuple[ImageFacts, tuple[str, str, str, str] | None]:
        return asyncio.run(self._read(ref, tag))

    async def _read(
        self, ref: Reference, tag: Reference | None
    ) -> tuple[ImageFacts, tuple[str, str, str, str] | None]:
        client = RegistryClient(self._registries)
        try:
            moved = None
            if tag is not None and ref.digest is not None:
                moved = await _moved(client, tag, ref.digest)
            key = (ref.host, ref.digest or "")
            facts = self._cached(key) if ref.digest else None
            if facts is None:
                facts = await read_image(client, ref, layers=True, limits=self._limits)
                # What a registry said is kept, not what it failed to say.
                if facts.complete or (facts.level == "L1" and facts.stopped is None):
                    self._keep((ref.host, facts.manifest_digest), facts)
            return facts, moved
        finally:
            await client.close()

    def _cached(self, key: tuple[str, str]) -> ImageFacts | None:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def _keep(self, key: tuple[str, str], facts: ImageFacts) -> None:
        with self._lock:
            self._cache[key] = facts
            self._cache.move_to_end(key)
            while len(self._cache) > CACHED_IMAGES:
                self._cache.popitem(last=False)


async def _moved(
    client: RegistryClient, tag: Reference, pinned: str
) -> tuple[str, str, str, str] | None:
    """(tag, repository, digest now, pinned digest) when the version's tag leads elsewhere
    now; None when it does not, or cannot be looked up (no finding rather than a guess)."""
    try:
        now = await client.digest(tag)
    except (RegistryRefused, RegistryUnavailable):
        return None
    return (str(tag.tag), tag.repository, now, pinned) if now != pinned else None


def _apps(config: Any, app_type: str | None) -> list[AppInput]:
    """The app sections: the one app type asked for, else one per configuration the
    AppImageConfig holds; none without either (the checks of the image alone)."""
    if config is None:
        return [] if app_type is None else [AppInput(app_type)]
    members = {
        "KernelGateway": config.kernel_gateway,
        "JupyterLab": config.jupyter_lab,
        "CodeEditor": config.code_editor,
    }
    if app_type is not None:
        return [AppInput(app_type, config.name, members[app_type] or {})]
    return [
        AppInput(kind, config.name, member)
        for kind, member in members.items()
        if member is not None
    ]
