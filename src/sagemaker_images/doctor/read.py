"""Reading an image from its registry into `ImageFacts`, no more of it than asked for.

The manifest first (an index chooses its linux/amd64 image), then the config, then — when
the checks need files — the layers, newest first, each streamed: its bytes hashed as they
come, decompressed (gzip, zstd when the optional `zstandard` is installed, or none) and fed
to a tar reader that keeps only headers and the few contents checks read. Nothing is
written to disk. Caps bound what is read (`Limits`); reaching one stops the reading, and the
facts say so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sagemaker_images.doctor.facts import ImageFacts, LayerFacts, MergedView, Problem
from sagemaker_images.doctor.tar import BadTar, TarReader
from sagemaker_images.registry.client import (
    MANIFEST_TYPES,
    RegistryClient,
    RegistryRefused,
    RegistryUnavailable,
)
from sagemaker_images.registry.reference import Reference

SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
ACCEPT = ", ".join((MANIFEST_TYPES, *SCHEMA1))
INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
MAX_MANIFEST = 4 * 1024 * 1024
MAX_CONFIG = 1024 * 1024
TRIES = 3
_OUTPUT = 1024 * 1024  # decompressed bytes at a time: a small gzip cannot fill memory


@dataclass(frozen=True, slots=True)
class Limits:
    max_layer_bytes: int = 8 * 1024**3  # compressed bytes of layers read, in all
    max_entries: int = 2_000_000
    timeout_seconds: float = 600.0


class Registry(Protocol):
    async def open(self, ref: Reference, path: str, accept: str) -> Any: ...


class Stop(Exception):
    """A cap was reached: the reading ends here, with what it has."""


async def read_image(
    client: RegistryClient | Registry, ref: Reference, *, layers: bool, limits: Limits | None = None
) -> ImageFacts:
    """The facts of the image `ref` names (its layers too when `layers`)."""
    limits = limits or Limits()
    facts = ImageFacts(reference=str(ref))
    reader = _Reader(client, ref, facts, limits)
    try:
        await asyncio.wait_for(reader.run(layers), limits.timeout_seconds)
    except TimeoutError:
        facts.stopped = f"the {limits.timeout_seconds:g} s limit of one inspection"
    return facts


class _Reader:
    def __init__(
        self, client: RegistryClient | Registry, ref: Reference, facts: ImageFacts, limits: Limits
    ) -> None:
        self._client = client
        self._ref = ref
        self._facts = facts
        self._limits = limits
        self._started = time.monotonic()

    async def run(self, layers: bool) -> None:
        facts = self._facts
        manifest = await self._manifest(self._ref.manifest_ref, self._ref.digest)
        if manifest is None:
            return
        facts.manifest_digest = manifest[2]
        if not await self._image(manifest):
            return
        facts.level = "L1"
        if not _amd64_linux(facts.config):
            return  # not inspected further: it does not run
        if layers:
            await self._layers()

    # -- manifests and config --------------------------------------------------------------------

    async def _fetch(self, path: str, accept: str, cap: int) -> tuple[str, bytes] | None:
        """(media type, body) of a manifest or a small blob; None with `facts.problem` set
        when the registry will not give it."""
        for attempt in range(1, TRIES + 1):
            try:
                response = await self._client.open(self._ref, path, accept)
            except RegistryUnavailable as error:
                if attempt == TRIES:
                    self._problem(
                        "REGISTRY_UNAVAILABLE", host=self._ref.host, why=str(error), tries=TRIES
                    )
                    return None
                await asyncio.sleep(0.5 * attempt)
                continue
            except RegistryRefused as error:
                if error.outcome == "unauthorized":
                    status = "401" if "401" in str(error) else "403"
                    self._problem("REGISTRY_UNAUTHORIZED", status=status, host=self._ref.host)
                else:
                    self._problem("IMAGE_NOT_FOUND", registry_said=str(error))
                return None
            try:
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > cap:
                        break
                return media_type, bytes(body)
            finally:
                await response.aclose()
        return None

    async def _manifest(self, reference: str, digest: str | None) -> tuple[str, Any, str] | None:
        """(media type, parsed body, digest) of a manifest or index."""
        fetched = await self._fetch(f"manifests/{reference}", ACCEPT, MAX_MANIFEST)
        if fetched is None:
            return None
        media_type, body = fetched
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if digest is not None and digest.startswith("sha256:") and actual != digest:
            self._problem(
                "IMAGE_NOT_FOUND",
                registry_said=f"it answered a manifest whose digest is {actual}, not {digest}",
            )
            return None
        try:
            parsed = json.loads(body)
        except ValueError:
            self._problem("NOT_A_CONTAINER_IMAGE", why="its manifest is not JSON")
            return None
        if not isinstance(parsed, dict):
            self._problem("NOT_A_CONTAINER_IMAGE", why="its manifest is not a JSON object")
            return None
        media_type = str(parsed.get("mediaType") or media_type)
        if media_type in SCHEMA1 or parsed.get("schemaVersion") == 1:
            self._problem("MANIFEST_SCHEMA1", media_type=media_type or SCHEMA1[0])
            return None
        return media_type, parsed, actual

    async def _image(self, manifest: tuple[str, Any, str]) -> bool:
        """Read the image (an index's linux/amd64 one) and its config; False when there is
        no image to go on with."""
        facts = self._facts
        media_type, parsed, _ = manifest
        if media_type in INDEXES or "manifests" in parsed:
            platforms = []
            chosen = None
            for child in parsed.get("manifests") or ():
                platform = child.get("platform") or {}
                os_name, arch = platform.get("os", ""), platform.get("architecture", "")
                if (os_name, arch) == ("unknown", "unknown"):
                    continue  # an attestation, not an image
                platforms.append(f"{os_name}/{arch}" + _variant(platform))
                if chosen is None and (os_name, arch) == ("linux", "amd64"):
                    chosen = child
            facts.index_platforms = platforms
            if chosen is None:
                facts.level = "L1"
                self._problem("ARCH_NOT_AMD64", platforms=", ".join(platforms) or "none")
                return False
            child = await self._manifest(str(chosen.get("digest")), str(chosen.get("digest")))
            if child is None:
                return False
            media_type, parsed, facts.manifest_digest = child
        facts.media_type = media_type
        config = parsed.get("config") or {}
        layers = parsed.get("layers") or []
        facts.config_media_type = str(config.get("mediaType") or "")
        facts.artifact_type = parsed.get("artifactType")
        why = None
        if facts.artifact_type:
            why = f"artifact type {facts.artifact_type}"
        elif facts.config_media_type not in CONFIG_TYPES:
            why = f"config media type {facts.config_media_type or 'none'}"
        elif not layers:
            why = "no layers"
        elif int(config.get("size") or 0) > MAX_CONFIG:
            why = "config blob over 1 MiB"
        if why is not None:
            self._problem("NOT_A_CONTAINER_IMAGE", why=why)
            return False
        facts.layers = [
            LayerFacts(i, str(d.get("digest")), str(d.get("mediaType")), int(d.get("size") or 0))
            for i, d in enumerate(layers)
        ]
        facts.total_bytes = sum(layer.size for layer in facts.layers)
        digest = str(config.get("digest"))
        fetched = await self._fetch(f"blobs/{digest}", "*/*", MAX_CONFIG)
        if fetched is None:
            return False
        body = fetched[1]
        if len(body) > MAX_CONFIG:
            self._problem("NOT_A_CONTAINER_IMAGE", why="config blob over 1 MiB")
            return False
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            self._problem("NOT_A_CONTAINER_IMAGE", why=f"its config blob is not {digest}")
            return False
        try:
            facts.config = json.loads(body)
        except ValueError:
            self._problem("NOT_A_CONTAINER_IMAGE", why="its config is not JSON")
            return False
        if not isinstance(facts.config, dict):
            facts.config = {}
        facts.platform = (
            f"{facts.config.get('os', '')}/{facts.config.get('architecture', '')}"
            + _variant(facts.config)
        )
        return True

    def _problem(self, code: str, **details: Any) -> None:
        self._facts.problem = Problem(code, details)

    # -- layers ----------------------------------------------------------------------------------

    async def _layers(self) -> None:
        facts = self._facts
        facts.level = "L2"
        view = MergedView(facts)
        complete = True
        try:
            for layer in reversed(facts.layers):
                view.start_layer(layer.index)
                if not await self._layer(layer, view):
                    complete = False
        except Stop as stop:
            facts.stopped = str(stop)
            complete = False
        facts.complete = complete and facts.stopped is None

    async def _layer(self, layer: LayerFacts, view: MergedView) -> bool:
        """Read one layer into the view; False when it could not be read whole."""
        decompress = _decompressor(layer.media_type)
        if decompress is None:
            return False  # not a layer a runtime unpacks (LAYER_MEDIA_TYPE_UNSUPPORTED)
        if isinstance(decompress, str):
            layer.problem = decompress
            return False
        facts, limits = self._facts, self._limits
        tar = TarReader(view.header)
        digest = hashlib.sha256()
        uncompressed = 0
        broken: str | None = None
        try:
            response = await self._client.open(self._ref, f"blobs/{layer.digest}", "*/*")
        except (RegistryRefused, RegistryUnavailable) as error:
            layer.problem = f"the registry answered: {error}"
            return False
        try:
            async for chunk in _chunks(response):
                facts.bytes_read += len(chunk)
                if facts.bytes_read > limits.max_layer_bytes:
                    raise Stop(f"the --max-layer-bytes cap of {limits.max_layer_bytes} bytes")
                digest.update(chunk)
                for data in decompress(chunk):
                    uncompressed += len(data)
                    if broken is None and not tar.done:
                        try:
                            for member in tar.feed(data):
                                view.content(member)
                        except BadTar as error:
                            broken = str(error)
                if tar.members > limits.max_entries:
                    raise Stop(f"the cap of {limits.max_entries} tar entries")
        except (RegistryUnavailable, RegistryRefused) as error:
            layer.problem = f"reading it failed: {error}"
            return False
        except zlib.error as error:
            layer.problem = f"not gzip data: {error}"
            return False
        finally:
            await response.aclose()
        if broken is None and tar.pending:
            broken = "it ends inside a member"
        actual = "sha256:" + digest.hexdigest()
        if actual != layer.digest:
            layer.problem = f"digest {actual}"
        elif broken is not None:
            layer.problem = f"not a tar archive: {broken}"
        layer.read = layer.problem is None or layer.problem.startswith("digest ")
        layer.uncompressed = uncompressed
        facts.uncompressed_bytes += uncompressed
        return broken is None


async def _chunks(response: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except Exception as error:  # the transport failed mid-stream
        if isinstance(error, RegistryUnavailable | RegistryRefused):
            raise
        raise RegistryUnavailable(type(error).__name__) from None


Decompress = Callable[[bytes], list[bytes]]


def _decompressor(media_type: str) -> Decompress | str | None:
    """A function from compressed chunks to decompressed ones (it sniffs the first bytes of
    the generic Docker types); a reason when it cannot be read here; None when the media
    type is no layer."""
    if "+encrypted" in media_type or "foreign" in media_type:
        return None
    if media_type.endswith("+zstd"):
        return _zstd()
    if media_type.endswith(("tar+gzip", "tar.gzip")):
        return _Gunzip().chunks
    if media_type.endswith(("layer.v1.tar", "diff.tar")):
        return _Sniff().chunks
    return None


def _zstd() -> Decompress | str:
    try:
        import zstandard
    except ImportError:
        return "zstd layers need the optional zstandard package"
    decompressor = zstandard.ZstdDecompressor().decompressobj()

    def chunks(data: bytes) -> list[bytes]:
        out = decompressor.decompress(data)
        return [out] if out else []

    return chunks


class _Gunzip:
    """gzip across concatenated members, at most 1 MiB of output at a time."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)

    def chunks(self, data: bytes) -> list[bytes]:
        out = []
        while data:
            piece = self._d.decompress(data, _OUTPUT)
            if piece:
                out.append(piece)
            if self._d.unconsumed_tail:
                data = self._d.unconsumed_tail
            elif self._d.eof and self._d.unused_data:
                data = self._d.unused_data
                self._d = zlib.decompressobj(wbits=31)
            else:
                data = b""
        return out


class _Sniff:
    """An uncompressed layer type that may still hold gzip or zstd: its magic decides."""

    def __init__(self) -> None:
        self._inner: Decompress | None = None

    def chunks(self, data: bytes) -> list[bytes]:
        if self._inner is None:
            if data[:2] == b"\x1f\x8b":
                self._inner = _Gunzip().chunks
            elif data[:4] == b"\x28\xb5\x2f\xfd":
                found = _zstd()
                if isinstance(found, str):
                    raise zlib.error(found)
                self._inner = found
            else:
                self._inner = _plain
        return self._inner(data)


def _plain(data: bytes) -> list[bytes]:
    return [data]


def _variant(platform: dict[str, Any]) -> str:
    variant = platform.get("variant")
    return f"/{variant}" if variant else ""


def _amd64_linux(config: dict[str, Any]) -> bool:
    return config.get("os") == "linux" and config.get("architecture") == "amd64"
