"""The export format (docs/export-format.md): JSON lines, one resource a line, versioned.

    {"format": "sagemaker-images-catalog", "version": 3, "exported": "...", "account": ...}
    {"kind": "image", ...the image's columns..., "tags": {...}}
    {"kind": "version", "image": "<name>", ...the version's columns..., "aliases": [...]}
    {"kind": "app_image_config", ...the config's columns..., "tags": {...}}
    {"kind": "studio_lifecycle_config", ...the config's columns..., "tags": {...}}
    {"kind": "domain", ...the domain's columns..., "tags": {...}}
    {"kind": "user_profile" or "space", ...its columns..., "tags": {...}}
    {"kind": "end", "images": N, "versions": N, "app_image_configs": N, "domains": N, ...}

A version follows its image, a user profile or space its domain. Files of earlier
versions read as well: version 1 (before Studio domains), version 2 (before lifecycle
configs). Apps are not exported: they are what runs, not what is catalogued. The columns
are the records' (`records.py`), but for row ids and what derives from others
(`name_key`, `version_count`), so the format follows the declarations. Reading checks
every line and the closing counts, and says which line is wrong: a truncated or
malformed file is refused whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from sagemaker_images.logs import iso_time
from sagemaker_images.resources.kinds import KINDS, ResourceKind
from sagemaker_images.resources.records import Column, ImageRecord, VersionRecord, columns_of
from sagemaker_images.resources.states import ImageStatus, VersionStatus

FORMAT = "sagemaker-images-catalog"
# The kinds written on lines of their own (images and their versions have theirs), in the
# order the file holds them: a kind after the kind it lives in.
ONE_LINE: dict[str, ResourceKind[Any]] = {
    kind.name: kind for kind in KINDS if kind.exported_since is not None
}
VERSION = max(kind.exported_since or 1 for kind in ONE_LINE.values())
READABLE = tuple(range(1, VERSION + 1))
_DERIVED = {"id", "image_id", "name_key", "version_count"}
# Columns added to a kind after it was first exported: (kind, column) -> (the format
# version that added it, the value its records have in older files).
_ADDED = {("domain", "home_efs_creation"): (3, "Enabled")}


def fields_of(record_type: type) -> tuple[Column, ...]:
    """A record's columns as the file holds them: all but ids and what derives from others."""
    return tuple(c for c in columns_of(record_type) if c.name not in _DERIVED)


IMAGE_FIELDS = fields_of(ImageRecord)
VERSION_FIELDS = fields_of(VersionRecord)


def counts_of(version: int) -> tuple[str, ...]:
    """The end line's counts in a file of format `version`, in order."""
    since = [k.plural for k in ONE_LINE.values() if (k.exported_since or 1) <= version]
    return ("images", "versions", *since)


COUNTS = counts_of(VERSION)


class BadArchive(ValueError):
    """The file cannot be imported; the message names the line."""


@dataclass
class VersionEntry:
    record: VersionRecord
    aliases: list[str] = field(default_factory=list)
    due_ms: int | None = None  # when its transition in progress ends (None: when imported)


@dataclass
class ImageEntry:
    record: ImageRecord
    tags: dict[str, str] = field(default_factory=dict)
    versions: list[VersionEntry] = field(default_factory=list)
    due_ms: int | None = None


@dataclass
class Entry:
    """A resource written on a line of its own: an AppImageConfig, a domain, a user profile,
    a space, ..."""

    record: Any
    tags: dict[str, str] = field(default_factory=dict)
    due_ms: int | None = None


E = TypeVar("E", ImageEntry, Entry)


@dataclass
class Catalog:
    images: list[ImageEntry] = field(default_factory=list)
    # The one-line resources, by kind (a key of ONE_LINE).
    entries: dict[str, list[Entry]] = field(default_factory=lambda: {name: [] for name in ONE_LINE})

    def counts(self) -> tuple[int, ...]:
        versions = sum(len(image.versions) for image in self.images)
        return (len(self.images), versions, *(len(found) for found in self.entries.values()))

    def every_entry(self) -> list[tuple[ResourceKind[Any], Entry]]:
        """The one-line resources, each after the resource it lives in."""
        return [(ONE_LINE[name], e) for name, found in self.entries.items() for e in found]


# -- writing ----------------------------------------------------------------------------------


def header(account: str | None, now: float) -> bytes:
    return _line(
        {"format": FORMAT, "version": VERSION, "exported": iso_time(now), "account": account}
    )


def image_lines(entry: ImageEntry) -> Iterator[bytes]:
    image = entry.record
    yield _line(
        {
            "kind": "image",
            **_values(image, IMAGE_FIELDS),
            "tags": entry.tags,
            "transition_due_ms": entry.due_ms,
        }
    )
    for version in entry.versions:
        yield _line(
            {
                "kind": "version",
                "account": image.account,
                "region": image.region,
                "image": image.name,
                **_values(version.record, VERSION_FIELDS),
                "aliases": version.aliases,
                "transition_due_ms": version.due_ms,
            }
        )


def entry_line(kind: str, entry: Entry) -> bytes:
    """The line of a one-line resource (`kind`: a key of ONE_LINE)."""
    spec = ONE_LINE[kind]
    value = {"kind": kind, **_values(entry.record, fields_of(spec.record)), "tags": entry.tags}
    if spec.transitions is not None:
        value["transition_due_ms"] = entry.due_ms
    return _line(value)


def end(counts: tuple[int, ...]) -> bytes:
    return _line({"kind": "end", **dict(zip(COUNTS, counts, strict=True))})


def _values(record: Any, fields: Iterable[Column]) -> dict[str, Any]:
    return {column.name: getattr(record, column.name) for column in fields}


def _line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value) + b"\n"


# -- reading ----------------------------------------------------------------------------------


def read(lines: Iterable[bytes]) -> Catalog:
    """Every resource of an archive, all checked; raises BadArchive naming the line."""
    catalog = Catalog()
    version = 0
    ended = False
    number = 0
    names: set[tuple[str, ...]] = set()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if ended:
            raise BadArchive(f"line {number}: text after the end line")
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise BadArchive(
                f"line {number}: not JSON ({error.msg} at column {error.colno})"
            ) from None
        if not isinstance(value, dict):
            raise BadArchive(f"line {number}: not a JSON object")
        if not version:
            version = _check_header(value, number)
            continue
        kind = value.pop("kind", None)
        if kind == "image":
            catalog.images.append(_unique(None, _image(value, number), names, number))
        elif kind == "version":
            if not catalog.images:
                _fail(number, "a version before any image")
            catalog.images[-1].versions.append(_version(value, number, catalog.images[-1]))
        elif kind in ONE_LINE and (ONE_LINE[kind].exported_since or 1) <= version:
            spec = ONE_LINE[kind]
            entry = _unique(spec, _entry(spec, value, number, names, version), names, number)
            catalog.entries[kind].append(entry)
        elif kind == "end":
            held = dict(zip(COUNTS, catalog.counts(), strict=True))
            counted = counts_of(version)
            found = tuple(value.get(key) for key in counted)
            expected = tuple(held[key] for key in counted)
            if found != expected:
                _fail(number, f"the end line counts {found}, the file holds {expected}")
            ended = True
        else:
            _fail(number, f"unknown kind {kind!r}")
    if not version:
        raise BadArchive("the file is empty: no header line")
    if not ended:
        raise BadArchive(f"the file is truncated: no end line (it stops at line {number})")
    return catalog


def _image(value: dict[str, Any], number: int) -> ImageEntry:
    tags = _tags(value.pop("tags", {}), number)
    due = _due(value.pop("transition_due_ms", None), number)
    record = ImageRecord(
        id=0, name_key="", version_count=0, **_checked(value, IMAGE_FIELDS, number)
    )
    record.name_key = record.name.lower()
    if record.status not in ImageStatus.__members__:
        _fail(number, f"unknown image status {record.status!r}")
    return ImageEntry(record, tags, due_ms=due)


def _version(value: dict[str, Any], number: int, image: ImageEntry) -> VersionEntry:
    owner = (value.pop("account", None), value.pop("region", None), value.pop("image", None))
    if owner != (image.record.account, image.record.region, image.record.name):
        _fail(number, "a version that does not follow its image")
    aliases = value.pop("aliases", [])
    due = _due(value.pop("transition_due_ms", None), number)
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        _fail(number, "aliases must be a list of strings")
    record = VersionRecord(image_id=0, **_checked(value, VERSION_FIELDS, number))
    if record.status not in VersionStatus.__members__:
        _fail(number, f"unknown version status {record.status!r}")
    if not 1 <= record.version <= image.record.last_version:
        _fail(number, f"version {record.version} is not in 1..{image.record.last_version}")
    if any(v.record.version == record.version for v in image.versions):
        _fail(number, f"version {record.version} of {image.record.name} appears twice")
    taken = {alias for v in image.versions for alias in v.aliases}
    if taken.intersection(aliases) or len(set(aliases)) != len(aliases):
        _fail(number, f"an alias of {image.record.name} names two versions")
    return VersionEntry(record, aliases, due)


def _entry(
    kind: ResourceKind[Any],
    value: dict[str, Any],
    number: int,
    names: set[tuple[Any, ...]],
    version: int,
) -> Entry:
    tags = _tags(value.pop("tags", {}), number)
    due = _due(value.pop("transition_due_ms", None), number) if kind.transitions else None
    for (of, column), (since, default) in _ADDED.items():
        if of == kind.name and version < since:
            value.setdefault(column, default)
    fields = dict(_checked(value, fields_of(kind.record), number))
    record = kind.record(id=0, name_key=str(fields["name"]).lower(), **fields)
    statuses = kind.transitions.statuses if kind.transitions else None
    if statuses is not None and record.status not in {s.value for s in statuses}:
        _fail(number, f"unknown {kind.noun} status {record.status!r}")
    parent = kind.parent
    if parent is not None:
        owner = tuple(getattr(record, column) for column in parent.key)
        if (parent.name, record.account, record.region, *owner) not in names:
            _fail(number, f"a {kind.noun} before its {parent.noun} {'/'.join(owner)}")
    return Entry(record, tags, due)


def _unique(
    kind: ResourceKind[Any] | None, entry: E, names: set[tuple[Any, ...]], number: int
) -> E:
    """`entry`, noted in `names` by its key and its name; refused if either is there."""
    r: Any = entry.record
    where = f"account {r.account}, {r.region}"
    label = kind.name if kind is not None else "image"
    key_columns: tuple[str, ...] = kind.key if kind is not None else ("name_key",)
    in_parent: tuple[str, ...] = ()
    if kind is not None and kind.parent is not None:
        in_parent = kind.parent.key
    keys = {
        (label, r.account, r.region, *(getattr(r, c) for c in key_columns)),
        (label, r.account, r.region, *(getattr(r, c) for c in in_parent), "name:" + r.name_key),
    }
    for key in keys:
        if key in names:
            _fail(number, f"{r.name} appears twice in {where}")
    names.update(keys)
    return entry


def _check_header(value: dict[str, Any], number: int) -> int:
    """The file's format version."""
    if value.get("format") != FORMAT:
        _fail(number, f"not a {FORMAT} file")
    version = value.get("version")
    if version not in READABLE or isinstance(version, bool):
        _fail(number, f"format version {version!r}; this release reads {READABLE}")
    return int(str(version))


def _checked(value: dict[str, Any], fields: tuple[Column, ...], number: int) -> dict[str, Any]:
    names = {column.name for column in fields}
    unknown = sorted(set(value) - names)
    if unknown:
        _fail(number, f"unknown fields {unknown}")
    for column in fields:
        if column.name not in value:
            _fail(number, f"{column.name} is missing")
        item = value[column.name]
        if item is None and column.optional:
            continue
        if not isinstance(item, column.type) or (
            isinstance(item, bool) and column.type is not bool
        ):
            _fail(number, f"{column.name} must be {column.type.__name__}, not {item!r:.60}")
    return value


def _due(value: Any, number: int) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        _fail(number, f"transition_due_ms must be int or null, not {value!r:.60}")
    due: int | None = value
    return due


def _tags(value: Any, number: int) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        _fail(number, "tags must be an object of strings")
    return dict(value)


def _fail(number: int, why: str) -> Any:
    raise BadArchive(f"line {number}: {why}")
