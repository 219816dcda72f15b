"""Deterministic OCI and Docker images built in pure Python, for tests that need real content.

Tests that inspect images (users, kernels, ELF machines, whiteouts) need layers whose bytes
they control exactly; `docker build` is neither available nor reproducible here. Everything
is built in memory: tar members carry mtime 0 and no owner names, gzip carries no timestamp
and JSON is dumped with sorted keys, so the same description always gives the same digests.

`push` stores an image or index in a real registry over the distribution API;
`write_oci_layout` writes one for `skopeo copy oci:...`; `FakeRegistry` serves canned
content a real registry refuses to store (schema 1, blobs that do not match their digest,
endless streams).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import posixpath
import re
import shutil
import struct
import subprocess
import tarfile
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
IN_TOTO = "application/vnd.in-toto+json"
# What a client that understands every manifest kind sends as Accept.
ALL_MANIFESTS = ", ".join(
    (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST, DOCKER_SCHEMA1_SIGNED)
)
REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

MEDIA = ("oci", "docker2")
COMPRESSIONS = ("gzip", "zstd", "none")


def sha256(data: bytes) -> str:
    """The digest of `data` as registries name it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: equal values give equal bytes, hence digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def elf(machine: int = 0x3E) -> bytes:
    """A 64-byte ELF64 little-endian executable header for `machine` (0x3e x86-64, 0xb7
    aarch64): enough for anything that sniffs a binary's architecture."""
    ident = bytes([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]).ljust(16, b"\0")
    header = ident + struct.pack("<HHI", 2, machine, 1)
    return header.ljust(64, b"\0")


# --------------------------------------------------------------------------- layer entries


@dataclass(frozen=True)
class File:
    """A regular file; `data` as bytes (or text, written as UTF-8)."""

    path: str
    data: bytes | str = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Dir:
    """A directory; parents are never added implicitly, so give every one you want."""

    path: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Symlink:
    """A symbolic link; `target` is written as given (relative or absolute)."""

    path: str
    target: str


@dataclass(frozen=True)
class Hardlink:
    """A hard link to another member of the same layer, named by its path."""

    path: str
    target: str


@dataclass(frozen=True)
class Whiteout:
    """Deletes `path` from lower layers: the member `<dir>/.wh.<name>`."""

    path: str


@dataclass(frozen=True)
class Opaque:
    """Hides everything lower layers put in `dir`: the member `<dir>/.wh..wh..opq`."""

    dir: str


Entry = File | Dir | Symlink | Hardlink | Whiteout | Opaque


def _clean(path: str) -> str:
    """A member name as layers carry it: relative to the root, no `.`/`..`/empty parts."""
    parts = [part for part in path.strip("/").split("/") if part not in {"", "."}]
    if ".." in parts:
        raise ValueError(f"layer path {path!r} climbs out of the root")
    return "/".join(parts)


def _member(entry: Entry) -> tuple[tarfile.TarInfo, bytes | None]:
    """The tar header (mtime 0, no owner names) and content of one entry."""
    data: bytes | None = None
    if isinstance(entry, File):
        info = tarfile.TarInfo(_clean(entry.path))
        data = entry.data.encode() if isinstance(entry.data, str) else bytes(entry.data)
        info.size = len(data)
        info.mode, info.uid, info.gid = entry.mode, entry.uid, entry.gid
    elif isinstance(entry, Dir):
        info = tarfile.TarInfo(_clean(entry.path))
        info.type = tarfile.DIRTYPE
        info.mode, info.uid, info.gid = entry.mode, entry.uid, entry.gid
    elif isinstance(entry, Symlink):
        info = tarfile.TarInfo(_clean(entry.path))
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry.target, 0o777
    elif isinstance(entry, Hardlink):
        info = tarfile.TarInfo(_clean(entry.path))
        info.type, info.linkname, info.mode = tarfile.LNKTYPE, _clean(entry.target), 0o644
    elif isinstance(entry, Whiteout):
        parent, name = posixpath.split(_clean(entry.path))
        if not name:
            raise ValueError("a whiteout needs a path below the root")
        info = tarfile.TarInfo(posixpath.join(parent, ".wh." + name))
        info.mode = 0o644
    elif isinstance(entry, Opaque):
        info = tarfile.TarInfo(posixpath.join(_clean(entry.dir), ".wh..wh..opq"))
        info.mode = 0o644
    else:  # pragma: no cover - the type says it cannot happen
        raise TypeError(f"not a layer entry: {entry!r}")
    if not info.name:
        raise ValueError(f"{entry!r} names the root itself")
    info.mtime = 0
    info.uname = info.gname = ""
    return info, data


# --------------------------------------------------------------------------------- layers


def _zstd(data: bytes) -> bytes:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        binary = shutil.which("zstd")
        if binary is None:
            raise RuntimeError("zstd layers need the zstandard module or the zstd CLI") from None
        return subprocess.run(
            [binary, "-q", "-c"], input=data, capture_output=True, check=True
        ).stdout
    return bytes(zstandard.ZstdCompressor().compress(data))


def _unzstd(data: bytes) -> bytes:
    try:
        import zstandard
    except ImportError:
        binary = shutil.which("zstd")
        if binary is None:
            raise RuntimeError("zstd layers need the zstandard module or the zstd CLI") from None
        return subprocess.run(
            [binary, "-q", "-d", "-c"], input=data, capture_output=True, check=True
        ).stdout
    with zstandard.ZstdDecompressor().stream_reader(data) as reader:
        return bytes(reader.read())


def decompress(blob: bytes) -> bytes:
    """A layer blob's tar, whatever its compression (sniffed from the magic bytes, so a
    media type that lies does not matter)."""
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return _unzstd(blob)
    return blob


@dataclass(frozen=True, eq=False)
class Layer:
    """A filesystem layer: a reproducible tar of `entries`, compressed as asked."""

    entries: Sequence[Entry]
    compression: str = "gzip"

    def __post_init__(self) -> None:
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression {self.compression!r} is not one of {COMPRESSIONS}")
        object.__setattr__(self, "entries", tuple(self.entries))

    @cached_property
    def tar(self) -> bytes:
        """The uncompressed tar (PAX), members sorted by name."""
        members = sorted((_member(entry) for entry in self.entries), key=lambda m: m[0].name)
        names = [info.name for info, _ in members]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"a layer names these paths twice: {duplicates}")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in members:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()

    @cached_property
    def blob(self) -> bytes:
        """What the registry stores: the tar, compressed without timestamps."""
        if self.compression == "gzip":
            return gzip.compress(self.tar, mtime=0)
        if self.compression == "zstd":
            return _zstd(self.tar)
        return self.tar

    @property
    def digest(self) -> str:
        return sha256(self.blob)

    @property
    def diff_id(self) -> str:
        return sha256(self.tar)

    @property
    def size(self) -> int:
        return len(self.blob)

    @property
    def media_type(self) -> str:
        """The OCI media type; `media_type_for("docker2")` gives Docker's."""
        return self.media_type_for("oci")

    def media_type_for(self, media: str) -> str:
        if media == "oci":
            suffix = {"gzip": "+gzip", "zstd": "+zstd", "none": ""}[self.compression]
            return OCI_LAYER + suffix
        if media == "docker2":
            if self.compression == "zstd":
                raise ValueError("Docker's manifest v2 has no zstd layer media type")
            return DOCKER_LAYER + (".gzip" if self.compression == "gzip" else "")
        raise ValueError(f"media {media!r} is not one of {MEDIA}")


@dataclass(frozen=True, eq=False)
class RawLayer:
    """A layer that is not a tar (an in-toto statement in an attestation manifest, or
    deliberately broken content): stored and described as given."""

    data: bytes
    media_type: str

    @property
    def blob(self) -> bytes:
        return self.data

    @property
    def tar(self) -> bytes:
        return self.data

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def diff_id(self) -> str:
        return sha256(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def media_type_for(self, media: str) -> str:
        return self.media_type


AnyLayer = Layer | RawLayer


# ------------------------------------------------------------------------- config, image


@dataclass(frozen=True)
class Config:
    """The image configuration (what `docker inspect` shows under Config, plus rootfs)."""

    architecture: str = "amd64"
    os: str = "linux"
    variant: str | None = None
    user: str = ""
    env: Sequence[str] = (DEFAULT_PATH,)
    entrypoint: Sequence[str] | None = None
    cmd: Sequence[str] | None = None
    workdir: str = ""
    exposed_ports: Iterable[str] | None = None
    labels: Mapping[str, str] | None = None
    history: Sequence[Mapping[str, Any]] | None = None
    created: str | None = None

    def document(self, layers: Sequence[AnyLayer]) -> dict[str, Any]:
        """The configuration as a JSON value, with the diff_ids of `layers`."""
        config: dict[str, Any] = {"Env": list(self.env)}
        if self.user:
            config["User"] = self.user
        if self.entrypoint is not None:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            config["Cmd"] = list(self.cmd)
        if self.workdir:
            config["WorkingDir"] = self.workdir
        if self.exposed_ports is not None:
            config["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        if self.labels is not None:
            config["Labels"] = dict(self.labels)
        document: dict[str, Any] = {
            "architecture": self.architecture,
            "os": self.os,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        }
        if self.variant:
            document["variant"] = self.variant
        if self.history is not None:
            document["history"] = [dict(item) for item in self.history]
        if self.created is not None:
            document["created"] = self.created
        return document

    def json(self, layers: Sequence[AnyLayer]) -> bytes:
        return canonical_json(self.document(layers))


def _check_media(media: str) -> None:
    if media not in MEDIA:
        raise ValueError(f"media {media!r} is not one of {MEDIA}")


@dataclass(frozen=True, eq=False)
class Image:
    """One platform's image: config blob, layer blobs and the manifest naming them."""

    layers: Sequence[AnyLayer]
    config: Config = field(default_factory=Config)
    media: str = "oci"
    annotations: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        _check_media(self.media)
        object.__setattr__(self, "layers", tuple(self.layers))

    @property
    def media_type(self) -> str:
        return OCI_MANIFEST if self.media == "oci" else DOCKER_MANIFEST

    @cached_property
    def config_json(self) -> bytes:
        return self.config.json(self.layers)

    @cached_property
    def _manifest(self) -> bytes:
        config_type = OCI_CONFIG if self.media == "oci" else DOCKER_CONFIG
        document: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "config": {
                "mediaType": config_type,
                "digest": sha256(self.config_json),
                "size": len(self.config_json),
            },
            "layers": [
                {
                    "mediaType": layer.media_type_for(self.media),
                    "digest": layer.digest,
                    "size": layer.size,
                }
                for layer in self.layers
            ],
        }
        if self.annotations:
            document["annotations"] = dict(self.annotations)
        return canonical_json(document)

    def manifest(self) -> tuple[str, bytes]:
        """(media type, bytes) of the image manifest."""
        return self.media_type, self._manifest

    @property
    def digest(self) -> str:
        return sha256(self._manifest)

    def blobs(self) -> dict[str, bytes]:
        """Digest -> content of the config and every layer."""
        found = {sha256(self.config_json): self.config_json}
        found.update((layer.digest, layer.blob) for layer in self.layers)
        return found

    def child_manifests(self) -> list[tuple[str, str, bytes]]:
        """Manifests this one refers to: none (an index has some)."""
        return []


@dataclass(frozen=True, eq=False)
class Index:
    """A multi-platform index (or Docker manifest list) of `(platform, image)` entries; an
    entry may carry a third item, the descriptor's annotations (as buildkit's attestation
    manifests do)."""

    entries: Sequence[
        tuple[Mapping[str, Any], Image | Index]
        | tuple[Mapping[str, Any], Image | Index, Mapping[str, str]]
    ]
    media: str = "oci"

    def __post_init__(self) -> None:
        _check_media(self.media)
        object.__setattr__(self, "entries", tuple(self.entries))

    @property
    def media_type(self) -> str:
        return OCI_INDEX if self.media == "oci" else DOCKER_LIST

    @property
    def children(self) -> list[Image | Index]:
        return [entry[1] for entry in self.entries]

    @cached_property
    def _manifest(self) -> bytes:
        manifests = []
        for entry in self.entries:
            platform, child = entry[0], entry[1]
            media_type, body = child.manifest()
            descriptor: dict[str, Any] = {
                "mediaType": media_type,
                "digest": sha256(body),
                "size": len(body),
                "platform": dict(platform),
            }
            if len(entry) > 2 and entry[2]:
                descriptor["annotations"] = dict(entry[2])
            manifests.append(descriptor)
        document = {"schemaVersion": 2, "mediaType": self.media_type, "manifests": manifests}
        return canonical_json(document)

    def manifest(self) -> tuple[str, bytes]:
        """(media type, bytes) of the index."""
        return self.media_type, self._manifest

    @property
    def digest(self) -> str:
        return sha256(self._manifest)

    def blobs(self) -> dict[str, bytes]:
        """Digest -> content of every config and layer of every child."""
        found: dict[str, bytes] = {}
        for child in self.children:
            found.update(child.blobs())
        return found

    def child_manifests(self) -> list[tuple[str, str, bytes]]:
        """(digest, media type, bytes) of every manifest below this index, deepest first."""
        found: list[tuple[str, str, bytes]] = []
        for child in self.children:
            for item in [*child.child_manifests(), (child.digest, *child.manifest())]:
                if item not in found:
                    found.append(item)
        return found


def attestation(subject: Image, statement: Mapping[str, Any] | None = None) -> Image:
    """An attestation manifest like buildkit's for `subject`: an in-toto layer, config for
    platform unknown/unknown. Put it in an Index with `attestation_entry`."""
    body = statement or {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{"name": "image", "digest": {"sha256": subject.digest.split(":", 1)[1]}}],
        "predicate": {},
    }
    layer = RawLayer(canonical_json(body), IN_TOTO)
    return Image([layer], Config(architecture="unknown", os="unknown", env=()), media="oci")


def attestation_entry(
    subject: Image, statement: Mapping[str, Any] | None = None
) -> tuple[dict[str, str], Image, dict[str, str]]:
    """An Index entry for `subject`'s attestation, annotated as buildkit annotates it."""
    return (
        {"os": "unknown", "architecture": "unknown"},
        attestation(subject, statement),
        {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": subject.digest,
        },
    )


# ------------------------------------------------------------------------------- good base

PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\nsagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash\n"
)
GROUP = "root:x:0:\nusers:x:100:\n"
KERNEL_JSON = (
    '{"argv": ["/opt/conda/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],'
    ' "display_name": "Python 3", "language": "python"}'
)
CONDA_PATH = "PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def good_config() -> Config:
    """The good base's configuration: runs as sagemaker-user in its home, conda first."""
    return Config(user="sagemaker-user", env=(CONDA_PATH,), workdir="/home/sagemaker-user")


def good_base(machine: int = 0x3E, compression: str = "gzip") -> list[Layer]:
    """The layers of an image SageMaker Studio accepts: system files (users, bash, the code
    editor, the user's home), then conda (python, jupyter-lab, a python3 kernel)."""
    system = Layer(
        [
            Dir("bin"),
            File("bin/bash", elf(machine), mode=0o755),
            Symlink("bin/sh", "bash"),
            Dir("etc"),
            File("etc/passwd", PASSWD),
            File("etc/group", GROUP),
            Dir("home"),
            Dir("home/sagemaker-user", uid=1000, gid=100),
            Dir("usr"),
            Dir("usr/bin"),
            File("usr/bin/sagemaker-code-editor", elf(machine), mode=0o755),
        ],
        compression,
    )
    conda = Layer(
        [
            Dir("opt"),
            Dir("opt/conda"),
            Dir("opt/conda/bin"),
            File("opt/conda/bin/python", elf(machine), mode=0o755),
            File("opt/conda/bin/jupyter-lab", "#!/opt/conda/bin/python\nimport sys\n", mode=0o755),
            Dir("opt/conda/conda-meta"),
            File("opt/conda/conda-meta/history"),
            Dir("opt/conda/share"),
            Dir("opt/conda/share/jupyter"),
            Dir("opt/conda/share/jupyter/kernels"),
            Dir("opt/conda/share/jupyter/kernels/python3"),
            File("opt/conda/share/jupyter/kernels/python3/kernel.json", KERNEL_JSON),
        ],
        compression,
    )
    return [system, conda]


def good_image(
    extra_layers: Sequence[AnyLayer] = (), *, media: str = "oci", **config_overrides: Any
) -> Image:
    """The good base plus `extra_layers`, with Config fields overridden."""
    return Image(
        [*good_base(), *extra_layers], replace(good_config(), **config_overrides), media=media
    )


# ------------------------------------------------------------------------------ registries


def _connection(url: str) -> tuple[http.client.HTTPConnection, urllib.parse.SplitResult]:
    """A connection to a loopback registry (never through a proxy, never elsewhere)."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"{url}: tests talk to registries on loopback only")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30), parts
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30), parts


def request(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange with a loopback registry: (status, lower-cased headers, body)."""
    connection, parts = _connection(url)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target or "/", body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        connection.close()


def _expect(
    answer: tuple[int, dict[str, str], bytes], statuses: set[int], what: str
) -> tuple[int, dict[str, str], bytes]:
    status, _, body = answer
    if status not in statuses:
        raise AssertionError(
            f"{what}: the registry answered {status}: {body.decode(errors='replace')[:2000]}"
        )
    return answer


def _push_blob(base: str, repository: str, digest: str, data: bytes) -> None:
    status, _, _ = request(f"{base}/v2/{repository}/blobs/{digest}", "HEAD")
    if status == 200:
        return
    _, headers, _ = _expect(
        request(f"{base}/v2/{repository}/blobs/uploads/", "POST", b""),
        {202},
        f"starting the upload of {digest} to {repository}",
    )
    if "location" not in headers:
        raise AssertionError(f"upload of {digest} to {repository}: no Location in {headers}")
    location = urllib.parse.urljoin(base + "/", headers["location"])
    separator = "&" if urllib.parse.urlsplit(location).query else "?"
    _expect(
        request(
            f"{location}{separator}digest={urllib.parse.quote(digest)}",
            "PUT",
            data,
            {"Content-Type": "application/octet-stream"},
        ),
        {201},
        f"uploading {digest} ({len(data)} bytes) to {repository}",
    )


def _push_manifest(base: str, repository: str, reference: str, media_type: str, body: bytes) -> str:
    _, headers, _ = _expect(
        request(
            f"{base}/v2/{repository}/manifests/{reference}",
            "PUT",
            body,
            {"Content-Type": media_type},
        ),
        {201},
        f"putting manifest {repository}:{reference} ({media_type})",
    )
    digest = sha256(body)
    stored = headers.get("docker-content-digest", digest)
    if stored != digest:
        raise AssertionError(f"{repository}:{reference} was stored as {stored}, not {digest}")
    return digest


def push(registry_url: str, repository: str, tag: str, image_or_index: Image | Index) -> str:
    """Store an image or index under `repository:tag`: blobs, child manifests by digest,
    then the tag. Returns the digest of the tagged manifest."""
    base = registry_url.rstrip("/")
    for digest, data in image_or_index.blobs().items():
        _push_blob(base, repository, digest, data)
    for digest, media_type, body in image_or_index.child_manifests():
        _push_manifest(base, repository, digest, media_type, body)
    media_type, body = image_or_index.manifest()
    return _push_manifest(base, repository, tag, media_type, body)


def get_manifest(
    registry_url: str, repository: str, reference: str, accept: str = ALL_MANIFESTS
) -> tuple[str, str, bytes]:
    """(Content-Type, Docker-Content-Digest, body) of a manifest as a registry serves it."""
    _, headers, body = _expect(
        request(
            f"{registry_url.rstrip('/')}/v2/{repository}/manifests/{reference}",
            headers={"Accept": accept},
        ),
        {200},
        f"getting manifest {repository}:{reference}",
    )
    return headers.get("content-type", ""), headers.get("docker-content-digest", ""), body


def get_blob(registry_url: str, repository: str, digest: str) -> bytes:
    """A blob's content, following the redirects some registries answer with."""
    url = f"{registry_url.rstrip('/')}/v2/{repository}/blobs/{digest}"
    for _ in range(5):
        status, headers, body = _expect(
            request(url), {200, 301, 302, 307, 308}, f"getting blob {repository}@{digest}"
        )
        if status == 200:
            return body
        url = urllib.parse.urljoin(url, headers["location"])
    raise AssertionError(f"getting blob {repository}@{digest}: too many redirects")


def write_oci_layout(directory: str | Path, tag: str, image_or_index: Image | Index) -> Path:
    """Write (or add `tag` to) an OCI image layout: what `skopeo copy oci:DIR:TAG` reads."""
    root = Path(directory)
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
    media_type, body = image_or_index.manifest()
    everything = {
        **image_or_index.blobs(),
        **{digest: data for digest, _, data in image_or_index.child_manifests()},
        sha256(body): body,
    }
    for digest, data in everything.items():
        (blobs / digest.split(":", 1)[1]).write_bytes(data)
    index_path = root / "index.json"
    manifests: list[dict[str, Any]] = []
    if index_path.exists():
        manifests = [
            descriptor
            for descriptor in json.loads(index_path.read_bytes())["manifests"]
            if descriptor.get("annotations", {}).get(REF_NAME) != tag
        ]
    manifests.append(
        {
            "mediaType": media_type,
            "digest": sha256(body),
            "size": len(body),
            "annotations": {REF_NAME: tag},
        }
    )
    index_path.write_bytes(
        canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
    )
    return root


# --------------------------------------------------------------------------- fake registry


@dataclass
class _Canned:
    media_type: str
    body: bytes | None = None
    factory: Callable[[], Iterable[bytes]] | None = None
    size: int | None = None
    digest_header: str | None = None


_ROUTE = re.compile(r"^/v2/(?P<name>.+)/(?P<kind>manifests|blobs)/(?P<reference>[^/]+)$")


class FakeRegistry:
    """A distribution API server with canned answers, for what a real registry refuses to
    store: schema 1 manifests, blobs that do not match their digest, streams too big to
    keep in memory. Read-only (GET and HEAD); everything else is 405 UNSUPPORTED."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.request_headers: list[dict[str, str]] = []
        self._manifests: dict[tuple[str, str], _Canned] = {}
        self._blobs: dict[tuple[str, str], _Canned] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, as an image reference names the registry."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeRegistry:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def put_manifest(
        self,
        repository: str,
        reference: str,
        media_type: str,
        body: bytes,
        *,
        digest_header: str | None = None,
    ) -> str:
        """Serve `body` at `reference` and at its own digest; returns that digest.
        `digest_header` replaces the honest Docker-Content-Digest (a registry that lies)."""
        digest = sha256(body)
        canned = _Canned(media_type, body, digest_header=digest_header)
        with self._lock:
            self._manifests[(repository, reference)] = canned
            self._manifests[(repository, digest)] = canned
        return digest

    def put_image(self, repository: str, tag: str, image_or_index: Image | Index) -> str:
        """Serve a built image or index (blobs, child manifests, tag) as `push` stores it."""
        for digest, data in image_or_index.blobs().items():
            self.put_blob(repository, digest, data)
        for digest, media_type, body in image_or_index.child_manifests():
            self.put_manifest(repository, digest, media_type, body)
        return self.put_manifest(repository, tag, *image_or_index.manifest())

    def put_blob(self, repository: str, digest: str, body: bytes) -> None:
        """Serve `body` as blob `digest`, whether or not it matches."""
        with self._lock:
            self._blobs[(repository, digest)] = _Canned("application/octet-stream", body)

    def put_blob_stream(
        self,
        repository: str,
        digest: str,
        factory: Callable[[], Iterable[bytes]],
        *,
        size: int | None = None,
    ) -> None:
        """Serve blob `digest` from `factory()`'s chunks, made afresh for each GET: with
        Content-Length `size` if given, else chunked."""
        with self._lock:
            self._blobs[(repository, digest)] = _Canned(
                "application/octet-stream", factory=factory, size=size
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self) -> str:
                path = urllib.parse.urlsplit(self.path).path
                with registry._lock:
                    registry.requests.append((self.command, path))
                    registry.request_headers.append(dict(self.headers.items()))
                return path

            def _answer(
                self, status: int, body: bytes, headers: Mapping[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _error(self, status: int, code: str, message: str) -> None:
                body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
                self._answer(status, body, {"Content-Type": "application/json"})

            def _serve(self) -> None:
                path = self._record()
                if path in {"/v2", "/v2/"}:
                    self._answer(200, b"{}", {"Content-Type": "application/json"})
                    return
                route = _ROUTE.match(path)
                if route is None:
                    self._error(404, "NOT_FOUND", "no such route")
                    return
                key = (route["name"], urllib.parse.unquote(route["reference"]))
                with registry._lock:
                    if route["kind"] == "manifests":
                        canned = registry._manifests.get(key)
                    else:
                        canned = registry._blobs.get(key)
                if canned is None and route["kind"] == "manifests":
                    self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                elif canned is None:
                    self._error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                elif route["kind"] == "manifests":
                    assert canned.body is not None
                    digest = canned.digest_header or sha256(canned.body)
                    self._answer(
                        200,
                        canned.body,
                        {"Content-Type": canned.media_type, "Docker-Content-Digest": digest},
                    )
                elif canned.factory is None:
                    assert canned.body is not None
                    self._answer(200, canned.body, self._blob_headers(key[1], canned))
                else:
                    self._stream(key[1], canned)

            def _blob_headers(self, digest: str, canned: _Canned) -> dict[str, str]:
                return {"Content-Type": canned.media_type, "Docker-Content-Digest": digest}

            def _stream(self, digest: str, canned: _Canned) -> None:
                assert canned.factory is not None
                self.send_response(200)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                for name, value in self._blob_headers(digest, canned).items():
                    self.send_header(name, value)
                if canned.size is not None:
                    self.send_header("Content-Length", str(canned.size))
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                # A declared size the chunks may not honour: never reuse the connection.
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                if self.command == "HEAD":
                    return
                try:
                    for chunk in canned.factory():
                        if not chunk:
                            continue
                        if canned.size is None:
                            self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                        else:
                            self.wfile.write(chunk)
                    if canned.size is None:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client had enough (a size limit, say)

            def _unsupported(self) -> None:
                self._record()
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self._error(405, "UNSUPPORTED", "this registry is read-only")

            do_GET = do_HEAD = _serve
            do_POST = do_PUT = do_PATCH = do_DELETE = _unsupported

            def log_message(self, *args: object) -> None:
                pass

        return Handler
