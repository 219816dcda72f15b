"""What one reading of an image yields (`ImageFacts`), and the file system its layers make.

The layers are read newest first, so the first entry seen for a path is the one a container
sees: an older layer's entry is kept only where no newer layer has one, whited it out, made
its directory opaque, or put a file where its parent directory would be. Ownership is taken
from every header of every layer before any of that (files deleted by a later layer still
count against SageMaker's limit of 65535).

Facts hold no input of a check (no AppImageConfig, no app type): they depend on the image
alone, so they are kept per manifest digest and every check is a pure function of them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from sagemaker_images.doctor.tar import Member

# Whiteouts, as the OCI image spec writes them.
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_LINK_HOPS = 40
# Files whose content a check reads (the first 64 KiB), and how much of an executable's.
CAPTURE_BYTES = 64 * 1024
HEAD_BYTES = 128
_KERNEL_JSON = re.compile(r"(?:^|/)share/jupyter/kernels/[^/]+/kernel\.json$")
_CAPTURED = frozenset(("etc/passwd", "etc/group"))
HIGH_ID = 65535
HIGH_ID_KEPT = 20


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # file, dir, symlink, hardlink or other
    mode: int
    uid: int
    gid: int
    size: int
    link: str  # a symlink's target as written; a hardlink's target path, normalised
    layer: int


@dataclass(slots=True)
class LayerFacts:
    index: int
    digest: str
    media_type: str
    size: int  # compressed, as the manifest declares
    uncompressed: int | None = None  # counted while reading it whole
    read: bool = False
    problem: str | None = None  # why it could not be read (LAYER_UNREADABLE)


@dataclass(frozen=True, slots=True)
class Problem:
    """What stopped the reading before the layers: a finding's code and its details."""

    code: str
    details: dict[str, Any]


@dataclass(slots=True)
class ImageFacts:
    """Everything the checks know of an image; `level` says how much was read."""

    reference: str  # what was read: the version's pinned ContainerImage, or BaseImage
    manifest_digest: str = ""
    media_type: str = ""
    platform: str = ""  # os/architecture[/variant] of the image read
    index_platforms: list[str] | None = None  # an index's platforms, when it was one
    config: dict[str, Any] = field(default_factory=dict)
    config_media_type: str = ""
    artifact_type: str | None = None
    layers: list[LayerFacts] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)
    high_ids: list[tuple[str, int, int, int]] = field(default_factory=list)  # first 20
    high_id_count: int = 0
    captured: dict[str, bytes] = field(default_factory=dict)  # passwd, group, kernel specs
    heads: dict[str, bytes] = field(default_factory=dict)  # executables' first bytes
    level: str = "L0"  # L1: manifest and config read; L2: layers read
    complete: bool = False  # every layer read whole
    bytes_read: int = 0  # compressed layer bytes read
    total_bytes: int = 0  # compressed layer bytes declared
    uncompressed_bytes: int = 0
    stopped: str | None = None  # why reading stopped early (a cap, an error)
    problem: Problem | None = None  # why the image could not be read (or is no image)
    # The version's tag now leads elsewhere: (tag, repository, digest now, pinned digest).
    moved: tuple[str, str, str, str] | None = None

    @property
    def image_config(self) -> dict[str, Any]:
        found = self.config.get("config")
        return found if isinstance(found, dict) else {}


def normalise(name: str) -> str | None:
    """A tar name as a path from the root without a leading or trailing `/` (`""` is the
    root); None for a name that climbs out with `..`."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


class MergedView:
    """The file system of the layers read so far, newest first (see the module's text)."""

    def __init__(self, facts: ImageFacts) -> None:
        self.facts = facts
        self._hidden: set[str] = set()  # whited out by a newer layer
        self._opaque: set[str] = set()  # made opaque by a newer layer
        self._new_hidden: set[str] = set()  # this layer's whiteouts: for older layers only
        self._new_opaque: set[str] = set()
        self._layer = -1
        self.climbing = 0  # names with `..`: counted, never recorded

    def start_layer(self, index: int) -> None:
        self._hidden |= self._new_hidden
        self._opaque |= self._new_opaque
        self._new_hidden, self._new_opaque = set(), set()
        self._layer = index

    def header(self, member: Member) -> int:
        """Take one tar header of the current layer; how much of its content to keep."""
        facts = self.facts
        if member.uid > HIGH_ID or member.gid > HIGH_ID:
            facts.high_id_count += 1
            if len(facts.high_ids) < HIGH_ID_KEPT:
                facts.high_ids.append((member.path, member.uid, member.gid, self._layer))
        path = normalise(member.path)
        if path is None:
            self.climbing += 1
            return 0
        if not path:
            return 0
        parent, _, name = path.rpartition("/")
        if name == OPAQUE:
            self._new_opaque.add(parent)
            return 0
        if name.startswith(WHITEOUT):
            hidden = name[len(WHITEOUT) :]
            self._new_hidden.add(f"{parent}/{hidden}" if parent else hidden)
            return 0
        held = facts.entries.get(path)
        if held is not None and held.layer != self._layer:
            return 0  # a newer layer's entry wins
        if self._shadowed(path):
            return 0
        link = member.link
        if member.kind == "hardlink":
            link = normalise(link) or ""
        facts.entries[path] = Entry(
            member.kind, member.mode, member.uid, member.gid, member.size, link, self._layer
        )
        if member.kind != "file":
            return 0
        if path in _CAPTURED or _KERNEL_JSON.search(path):
            return CAPTURE_BYTES
        return HEAD_BYTES if member.mode & 0o111 else 0

    def _shadowed(self, path: str) -> bool:
        if path in self._hidden:
            return True
        entries = self.facts.entries
        position = path.find("/")
        while position >= 0:
            ancestor = path[:position]
            if ancestor in self._hidden or ancestor in self._opaque:
                return True
            held = entries.get(ancestor)
            if held is not None and held.layer != self._layer and held.kind != "dir":
                return True  # a newer layer put something else where this directory was
            position = path.find("/", position + 1)
        return False

    def content(self, member: Member) -> None:
        """Keep the content read of a member `header` asked for."""
        path = normalise(member.path)
        if path is None or member.content is None:
            return
        if path in _CAPTURED or _KERNEL_JSON.search(path):
            self.facts.captured[path] = member.content
        else:
            self.facts.heads[path] = member.content[:HEAD_BYTES]


# -- looking things up in the merged view -------------------------------------------------------


def resolve(entries: dict[str, Entry], path: str) -> tuple[str, Entry | None]:
    """Where a path leads in the image, symbolic links followed within the image's root
    (absolute targets from the root, at most 40 hops) and hard links to their target:
    (the path reached, its entry or None when nothing is there or a loop never ends)."""
    pending = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = "/".join((*done, part))
        entry = entries.get(candidate)
        if entry is not None and entry.kind == "symlink":
            hops += 1
            if hops > MAX_LINK_HOPS:
                return candidate, None
            target = [p for p in entry.link.split("/") if p not in ("", ".")]
            if entry.link.startswith("/"):
                done = []
            pending = target + pending
            continue
        if entry is not None and entry.kind == "hardlink" and not pending:
            hops += 1
            if hops > MAX_LINK_HOPS:
                return candidate, None
            pending = entry.link.split("/") if entry.link else []
            done = []
            continue
        done.append(part)
    reached = "/".join(done)
    return reached, entries.get(reached)


def exists_as_dir(entries: dict[str, Entry], path: str) -> bool:
    """A directory there: an entry, or implied by entries beneath it (tars may leave out
    parent directories)."""
    reached, entry = resolve(entries, path)
    if entry is not None:
        return entry.kind == "dir"
    prefix = reached + "/"
    return any(p.startswith(prefix) for p in entries)


def which(entries: dict[str, Entry], name: str, path_dirs: list[str]) -> str | None:
    """The first `dir/name` of the PATH that is a file in the image (links followed)."""
    for directory in path_dirs:
        if not directory.startswith("/"):
            continue
        candidate = posixpath.join(directory, name).lstrip("/")
        _, entry = resolve(entries, candidate)
        if entry is not None and entry.kind == "file":
            return "/" + candidate
    return None


def executable_by(entry: Entry, uid: int, gid: int) -> bool:
    """Whether a user may execute the file: owner bits for its owner, group bits for its
    group, other bits otherwise; root needs any x bit."""
    if uid == 0:
        return bool(entry.mode & 0o111)
    if entry.uid == uid:
        return bool(entry.mode & 0o100)
    if entry.gid == gid:
        return bool(entry.mode & 0o010)
    return bool(entry.mode & 0o001)
