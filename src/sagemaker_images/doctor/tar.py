"""A tar reader fed bytes as they arrive: headers out, contents skipped unless wanted.

`tarfile` in stream mode wants a blocking file object and copies every member's content
through Python to skip it; an image's layers come from an HTTP stream on an event loop, and
the doctor needs the headers of every member but the content of a few (passwd, group,
kernel specs, the first bytes of executables). So this parser takes chunks (`feed`), keeps
only what an unfinished header or a wanted member needs, and skips the rest by counting.

It reads POSIX ustar, PAX (per-member and global records: path, linkpath, uid, gid, size)
and GNU (long names and link names, base-256 numbers) headers, and stops at the end-of-
archive blocks. A header whose checksum is wrong, or a number that is not one, raises
`BadTar`: the layer cannot be read further.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

BLOCK = 512
_EMPTY = bytes(BLOCK)
# Type flags as entries of the merged view see them (any other: "other").
KIND = {
    b"0": "file",
    b"\0": "file",
    b"7": "file",
    b"S": "file",  # GNU sparse: its stored data follows as a file's does
    b"1": "hardlink",
    b"2": "symlink",
    b"5": "dir",
    b"3": "other",
    b"4": "other",
    b"6": "other",
}
# Types whose header is followed by no content, whatever its size field says (as tarfile
# reads them); an unknown type's content is passed over.
_NO_CONTENT = frozenset((b"1", b"2", b"3", b"4", b"5", b"6"))


class BadTar(ValueError):
    """The stream is not a tar archive (any more); the message says where."""


@dataclass(slots=True)
class Member:
    path: str  # as stored (normalised by the caller)
    kind: str  # file, dir, symlink, hardlink or other
    mode: int
    uid: int
    gid: int
    size: int
    link: str
    content: bytes | None = None  # the first bytes, when `want` asked for them


# want(member) -> how many bytes of its content to keep (0: none).
Want = Callable[[Member], int]


class TarReader:
    """Feed chunks; each call answers the members whose header (and wanted content) is
    complete. `done` once the end-of-archive blocks are read."""

    def __init__(self, want: Want) -> None:
        self._want = want
        self._buffer = bytearray()
        self._skip = 0  # bytes of content (and padding) still to pass over
        self._keep = 0  # of which the first bytes to keep for `_member`
        self._member: Member | None = None
        self._kept = bytearray()
        self._pax: dict[str, str] = {}
        self._global: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self._special: bytes | None = None  # reading a PAX/GNU header's content
        self._special_size = 0
        self.done = False
        self.members = 0

    @property
    def pending(self) -> bool:
        """Whether the bytes fed so far end inside a header or a member's content: an
        archive cut short."""
        return bool(self._skip or self._buffer)

    def feed(self, data: bytes) -> list[Member]:
        out: list[Member] = []
        if self.done:
            return out
        view = memoryview(data)
        while view:
            if self._skip:
                view = self._content(view, out)
                continue
            need = BLOCK - len(self._buffer)
            self._buffer += view[:need]
            view = view[need:]
            if len(self._buffer) < BLOCK:
                break
            header, self._buffer = bytes(self._buffer), bytearray()
            self._header(header, out)
            if self.done:
                break
        return out

    def _content(self, view: memoryview, out: list[Member]) -> memoryview:
        take = min(self._skip, len(view))
        if self._keep:
            kept = min(self._keep, take)
            self._kept += view[:kept]
            self._keep -= kept
        self._skip -= take
        if self._skip == 0:
            self._finish(out)
        return view[take:]

    def _finish(self, out: list[Member]) -> None:
        """A member's content (and padding) passed: answer it, or apply a special header."""
        if self._special is not None:
            kind, self._special = self._special, None
            self._extended(kind, bytes(self._kept[: self._special_size]))
        elif self._member is not None:
            if self._kept:
                self._member.content = bytes(self._kept)
            out.append(self._member)
        self._member = None
        self._kept = bytearray()

    def _header(self, block: bytes, out: list[Member]) -> None:
        if block == _EMPTY:
            self.done = True  # the first of the two end-of-archive blocks is enough
            return
        stored = _number(block[148:156])
        computed = sum(block) - sum(block[148:156]) + 8 * 32
        if stored != computed:
            raise BadTar(f"header {self.members + 1} has a bad checksum")
        flag = block[156:157]
        size = _number(block[124:136])
        padded = -(-size // BLOCK) * BLOCK
        if flag in (b"x", b"g", b"L", b"K"):
            if size > 1 << 20:
                raise BadTar(f"an extended header of {size} bytes")
            self._special, self._special_size = flag, size
            self._skip, self._keep = padded, size
            if padded == 0:
                self._finish(out)
            return
        self.members += 1
        name = _text(block[0:100])
        prefix = _text(block[345:500]) if block[257:262] == b"ustar" else ""
        if prefix:
            name = f"{prefix}/{name}"
        pax = {**self._global, **self._pax}
        self._pax = {}
        path = pax.get("path") or self._long_name or name
        link = pax.get("linkpath") or self._long_link or _text(block[157:257])
        self._long_name = self._long_link = None
        if "size" in pax:
            size = _decimal(pax["size"], "size")
            padded = -(-size // BLOCK) * BLOCK
        kind = KIND.get(flag, "other")
        if flag in _NO_CONTENT:
            padded = 0
        member = Member(
            path=path,
            kind=kind,
            mode=_number(block[100:108]) & 0o7777,
            uid=_decimal(pax["uid"], "uid") if "uid" in pax else _number(block[108:116]),
            gid=_decimal(pax["gid"], "gid") if "gid" in pax else _number(block[116:124]),
            size=size,
            link=link,
        )
        wanted = self._want(member)  # (told of every member; content only of files)
        keep = min(wanted, size) if kind == "file" else 0
        if padded == 0:
            out.append(member)
            return
        self._member, self._skip, self._keep = member, padded, keep

    def _extended(self, kind: bytes, data: bytes) -> None:
        if kind == b"L":
            self._long_name = _text(data)
        elif kind == b"K":
            self._long_link = _text(data)
        else:
            records = dict(_pax_records(data))
            if kind == b"x":
                self._pax = records
            else:
                self._global.update(records)


def _pax_records(data: bytes) -> Iterator[tuple[str, str]]:
    """`<length> <key>=<value>\\n` records."""
    position = 0
    while position < len(data):
        space = data.find(b" ", position)
        if space < 0:
            break
        try:
            length = int(data[position:space])
        except ValueError:
            raise BadTar("a malformed PAX record") from None
        if length <= 0:
            break
        record = data[space + 1 : position + length - 1]
        key, _, value = record.partition(b"=")
        yield key.decode("utf-8", "replace"), value.decode("utf-8", "surrogateescape")
        position += length


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes) -> int:
    """An octal field, or GNU's base-256 (first byte's top bit set)."""
    if field and field[0] & 0x80:
        value = int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
        return value - (1 << (8 * len(field) - 1)) if field[0] & 0x40 else value
    digits = field.replace(b"\0", b" ").strip()
    if not digits:
        return 0
    try:
        return int(digits, 8)
    except ValueError:
        raise BadTar(f"a number field holds {digits[:12]!r}") from None


def _decimal(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadTar(f"a PAX {what} of {text[:20]!r}") from None
    if value < 0:
        raise BadTar(f"a negative PAX {what}")
    return value
