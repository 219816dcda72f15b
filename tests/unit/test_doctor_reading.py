"""Reading layers without a registry: the tar reader fed in pieces, the merged view of
layers newest first, lookups through links, and what hostile archives get."""

from __future__ import annotations

import io
import tarfile

import pytest

from sagemaker_images.doctor.facts import (
    ImageFacts,
    MergedView,
    executable_by,
    normalise,
    resolve,
    which,
)
from sagemaker_images.doctor.tar import BadTar, Member, TarReader


def archive(members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def info(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, **fields: object
) -> tarfile.TarInfo:
    found = tarfile.TarInfo(name)
    found.type = kind
    found.size = size
    for key, value in fields.items():
        setattr(found, key, value)
    return found


def read_all(data: bytes, piece: int, keep: int = 0) -> list[Member]:
    reader = TarReader(lambda member: keep)
    members = []
    for start in range(0, len(data), piece):
        members += reader.feed(data[start : start + piece])
    assert reader.done
    return members


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("piece", [1, 7, 512, 4096, 1 << 20])
def test_headers_and_kept_contents_whatever_the_pieces(fmt: int, piece: int) -> None:
    long_name = "opt/" + "d" * 120 + "/kernel.json"
    payload = b"x" * 1000
    members = [
        (info("etc", tarfile.DIRTYPE, mode=0o755), None),
        (info("etc/passwd", size=len(payload), mode=0o644, uid=0, gid=0), payload),
        (info("bin/sh", tarfile.SYMTYPE, linkname="bash"), None),
        (info("bin/bash2", tarfile.LNKTYPE, linkname="bin/bash"), None),
    ]
    if fmt != tarfile.USTAR_FORMAT:
        members.append((info(long_name, size=3, uid=100000, gid=70000, mode=0o755), b"abc"))
    data = archive(members, fmt)
    read = read_all(data, piece, keep=10)
    assert [(normalise(m.path), m.kind) for m in read] == [
        ("etc", "dir"),
        ("etc/passwd", "file"),
        ("bin/sh", "symlink"),
        ("bin/bash2", "hardlink"),
        *([(long_name, "file")] if fmt != tarfile.USTAR_FORMAT else []),
    ]
    assert read[1].content == b"x" * 10 and read[1].size == 1000
    assert (read[2].link, read[3].link) == ("bash", "bin/bash")
    if fmt != tarfile.USTAR_FORMAT:
        assert (read[4].uid, read[4].gid, read[4].mode, read[4].content) == (
            100000,
            70000,
            0o755,
            b"abc",
        )


def test_gnu_base_256_ids() -> None:
    data = archive([(info("big", uid=3_000_000, gid=2_500_000), b"")], tarfile.GNU_FORMAT)
    (member,) = read_all(data, 100)
    assert (member.uid, member.gid) == (3_000_000, 2_500_000)


def test_a_corrupt_header_is_refused() -> None:
    data = bytearray(archive([(info("a", size=1), b"a")], tarfile.USTAR_FORMAT))
    data[10] ^= 0xFF
    with pytest.raises(BadTar, match="bad checksum"):
        TarReader(lambda m: 0).feed(bytes(data))


def test_a_claimed_size_larger_than_the_stream_is_not_a_member() -> None:
    """A header that claims 10 GB of content, and the stream ends: nothing is kept, the
    reader waits for content that never comes (the layer is reported cut short)."""
    header = info("huge", size=10 * 10**9)
    data = header.tobuf(tarfile.GNU_FORMAT) + b"a" * 512
    reader = TarReader(lambda m: 1 << 16)
    assert reader.feed(data) == []
    assert not reader.done and reader.pending


# -- the merged view ----------------------------------------------------------------------------


def layer(view: MergedView, index: int, members: list[Member]) -> None:
    view.start_layer(index)
    for member in members:
        view.header(member)


def m(
    path: str, kind: str = "file", mode: int = 0o644, uid: int = 0, gid: int = 0, link: str = ""
) -> Member:
    return Member(path, kind, mode, uid, gid, 0, link)


def test_newest_first_with_whiteouts_and_opaque_directories() -> None:
    facts = ImageFacts(reference="r")
    view = MergedView(facts)
    # Layers from the newest (2) to the oldest (0).
    layer(
        view,
        2,
        [
            m("opt/kernels/.wh..wh..opq"),
            m("opt/kernels/ir/kernel.json"),
            m("etc/.wh.motd"),
            m("tool", "file"),
        ],
    )
    layer(
        view,
        1,
        [m("opt/kernels/python3/kernel.json"), m("etc/motd"), m("etc/hosts"), m("tool/inner")],
    )
    layer(view, 0, [m("etc/hosts", uid=5), m("opt/high", uid=70000)])
    assert sorted(facts.entries) == ["etc/hosts", "opt/high", "opt/kernels/ir/kernel.json", "tool"]
    assert facts.entries["etc/hosts"].layer == 1  # the newer one
    assert facts.high_id_count == 1


def test_a_layer_deleting_and_recreating_a_path_keeps_its_own() -> None:
    facts = ImageFacts(reference="r")
    view = MergedView(facts)
    layer(view, 1, [m("a/.wh.b"), m("a/b")])
    layer(view, 0, [m("a/b", uid=9)])
    assert facts.entries["a/b"].layer == 1


def test_deleted_files_still_count_for_their_ids() -> None:
    facts = ImageFacts(reference="r")
    view = MergedView(facts)
    layer(view, 1, [m("opt/.wh.x")])
    layer(view, 0, [m("opt/x", uid=100000, gid=100000)])
    assert "opt/x" not in facts.entries
    assert facts.high_ids == [("opt/x", 100000, 100000, 0)]


def test_names_climbing_out_are_counted_never_recorded() -> None:
    facts = ImageFacts(reference="r")
    view = MergedView(facts)
    layer(view, 0, [m("../../etc/passwd"), m("./a//b/"), m("/abs")])
    assert sorted(facts.entries) == ["a/b", "abs"]
    assert view.climbing == 1
    assert normalise("a/../../b") is None


# -- lookups ------------------------------------------------------------------------------------


def test_links_are_followed_inside_the_image_and_loops_end() -> None:
    facts = ImageFacts(reference="r")
    view = MergedView(facts)
    layer(
        view,
        0,
        [
            m("usr/bin/python3.11", mode=0o755),
            m("usr/bin/python", "symlink", link="python3.11"),
            m("bin", "symlink", link="/usr/bin"),
            m("loop/a", "symlink", link="b"),
            m("loop/b", "symlink", link="a"),
            m("escape", "symlink", link="../../../../usr/bin/python"),
            m("hard", "hardlink", link="usr/bin/python3.11"),
        ],
    )
    entries = facts.entries
    assert resolve(entries, "bin/python")[0] == "usr/bin/python3.11"
    assert resolve(entries, "escape")[0] == "usr/bin/python3.11"  # the root holds it
    assert resolve(entries, "loop/a")[1] is None
    assert resolve(entries, "hard")[0] == "usr/bin/python3.11"
    assert which(entries, "python", ["/nowhere", "/bin"]) == "/bin/python"
    assert which(entries, "python", ["/loop"]) is None


def test_who_may_execute() -> None:
    facts = ImageFacts(reference="r")
    view = MergedView(facts)
    layer(view, 0, [m("owner-only", mode=0o700, uid=1000, gid=100), m("none", mode=0o644)])
    owner, none = facts.entries["owner-only"], facts.entries["none"]
    assert executable_by(owner, 1000, 100) and not executable_by(owner, 1001, 100)
    assert executable_by(owner, 0, 0) and not executable_by(none, 0, 0)
