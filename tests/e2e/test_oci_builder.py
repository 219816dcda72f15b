"""The test image builder (tests/oci_builder.py) against a real CNCF distribution registry
(Debian's docker-registry), skopeo and its own FakeRegistry: what other tests build is
what a registry stores and serves back, byte for byte."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oci_builder import (
    DOCKER_CONFIG,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    DOCKER_SCHEMA1_SIGNED,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Config,
    Dir,
    FakeRegistry,
    File,
    Hardlink,
    Image,
    Index,
    Layer,
    Opaque,
    Symlink,
    Whiteout,
    attestation_entry,
    decompress,
    elf,
    get_blob,
    get_manifest,
    good_base,
    good_config,
    good_image,
    push,
    request,
    sha256,
    write_oci_layout,
)
from registry_support import RegistryProcess
from support import wait_until

# (type, uid, gid, mode, link target) of each member, by name.
Members = dict[str, tuple[bytes, int, int, int, str]]

EXTRA = Layer(
    [
        Dir("data", mode=0o700, uid=100000, gid=100000),
        File("data/owned-by-a-subuid", b"mapped\n", mode=0o600, uid=100000, gid=100000),
        File("data/beyond-ustar", "needs PAX\n", uid=3_000_000, gid=4_000_000),
        Hardlink("data/again", "data/owned-by-a-subuid"),
        Symlink("data/python", "/opt/conda/bin/python"),
        Whiteout("/opt/conda/conda-meta/history"),
        Opaque("/opt/conda/share/jupyter/kernels"),
    ]
)
EXTRA_MEMBERS: Members = {
    "data": (tarfile.DIRTYPE, 100000, 100000, 0o700, ""),
    "data/again": (tarfile.LNKTYPE, 0, 0, 0o644, "data/owned-by-a-subuid"),
    "data/beyond-ustar": (tarfile.REGTYPE, 3_000_000, 4_000_000, 0o644, ""),
    "data/owned-by-a-subuid": (tarfile.REGTYPE, 100000, 100000, 0o600, ""),
    "data/python": (tarfile.SYMTYPE, 0, 0, 0o777, "/opt/conda/bin/python"),
    "opt/conda/conda-meta/.wh.history": (tarfile.REGTYPE, 0, 0, 0o644, ""),
    "opt/conda/share/jupyter/kernels/.wh..wh..opq": (tarfile.REGTYPE, 0, 0, 0o644, ""),
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    process = RegistryProcess(tmp_path_factory.mktemp("registry")).start()
    yield process
    process.stop()


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        yield registry


def members(tar: bytes) -> Members:
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        return {m.name: (m.type, m.uid, m.gid, m.mode, m.linkname) for m in archive.getmembers()}


def content(tar: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        extracted = archive.extractfile(name)
        assert extracted is not None, name
        return extracted.read()


def read_back(registry_url: str, repository: str, tag: str) -> tuple[str, str, dict[str, Any]]:
    media_type, digest, body = get_manifest(registry_url, repository, tag)
    assert digest == sha256(body)
    return media_type, digest, json.loads(body)


def test_the_same_description_gives_the_same_digests() -> None:
    first, second = good_image([EXTRA]), good_image([EXTRA])
    assert first.digest == second.digest
    assert first.manifest() == second.manifest()
    assert first.blobs() == second.blobs()
    rebuilt = Layer(list(reversed(EXTRA.entries)))
    assert (rebuilt.tar, rebuilt.digest) == (EXTRA.tar, EXTRA.digest)
    assert good_image(user="root").digest != first.digest
    assert Image(good_base(), good_config(), media="docker2").digest != good_image().digest
    # No timestamp anywhere: gzip's MTIME field is zero, every member's mtime is 0.
    assert EXTRA.blob[4:8] == b"\0\0\0\0"
    with tarfile.open(fileobj=io.BytesIO(EXTRA.tar)) as archive:
        assert {(m.mtime, m.uname, m.gname) for m in archive.getmembers()} == {(0, "", "")}


def test_elf_header() -> None:
    header = elf(0xB7)
    assert len(header) == 64
    assert header[:8] == bytes.fromhex("7f454c4602010100")
    assert header[8:16] == bytes(8)
    assert header[16:24] == bytes.fromhex("0200b70001000000")
    assert elf()[18:20] == b"\x3e\x00"


def test_config_sets_only_what_is_given() -> None:
    layers = good_base()
    bare = json.loads(Config().json(layers))
    assert bare == {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
    }
    full = Config(
        architecture="arm64",
        variant="v8",
        user="1000:100",
        env=(),
        entrypoint=["/bin/bash"],
        cmd=[],
        workdir="/tmp",
        exposed_ports=["8888/tcp"],
    )
    assert json.loads(full.json([]))["config"] == {
        "User": "1000:100",
        "Env": [],
        "Entrypoint": ["/bin/bash"],
        "Cmd": [],
        "WorkingDir": "/tmp",
        "ExposedPorts": {"8888/tcp": {}},
    }
    assert json.loads(full.json([]))["variant"] == "v8"
    assert b" " not in full.json([])


@pytest.mark.parametrize(
    ("media", "manifest_type", "config_type", "layer_type"),
    [
        ("oci", OCI_MANIFEST, OCI_CONFIG, "application/vnd.oci.image.layer.v1.tar+gzip"),
        (
            "docker2",
            DOCKER_MANIFEST,
            DOCKER_CONFIG,
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        ),
    ],
)
def test_good_image_is_stored_as_built(
    registry: RegistryProcess, media: str, manifest_type: str, config_type: str, layer_type: str
) -> None:
    image = good_image([EXTRA], media=media)
    repository = f"builder/good-{media}"
    assert push(registry.url, repository, "v1", image) == image.digest

    served_type, digest, manifest = read_back(registry.url, repository, "v1")
    assert (served_type, digest) == (manifest_type, image.digest)
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == manifest_type
    assert manifest["config"]["mediaType"] == config_type
    assert [layer["mediaType"] for layer in manifest["layers"]] == [layer_type] * 3

    config_blob = get_blob(registry.url, repository, manifest["config"]["digest"])
    assert sha256(config_blob) == manifest["config"]["digest"]
    config = json.loads(config_blob)
    assert config["config"]["User"] == "sagemaker-user"
    assert config["config"]["WorkingDir"] == "/home/sagemaker-user"
    tars = []
    for descriptor in manifest["layers"]:
        blob = get_blob(registry.url, repository, descriptor["digest"])
        assert (sha256(blob), len(blob)) == (descriptor["digest"], descriptor["size"])
        tars.append(decompress(blob))
    assert config["rootfs"] == {
        "type": "layers",
        "diff_ids": [sha256(tar) for tar in tars],
    }

    system, conda, extra = (members(tar) for tar in tars)
    assert extra == EXTRA_MEMBERS
    assert system["home/sagemaker-user"] == (tarfile.DIRTYPE, 1000, 100, 0o755, "")
    assert system["bin/sh"] == (tarfile.SYMTYPE, 0, 0, 0o777, "bash")
    assert system["bin/bash"] == (tarfile.REGTYPE, 0, 0, 0o755, "")
    assert conda["opt/conda/bin/python"] == (tarfile.REGTYPE, 0, 0, 0o755, "")
    assert "opt" in conda and "opt/conda/share/jupyter/kernels/python3" in conda
    assert content(tars[0], "etc/passwd").decode().splitlines()[1] == (
        "sagemaker-user:x:1000:100::/home/sagemaker-user:/bin/bash"
    )
    assert content(tars[0], "etc/group") == b"root:x:0:\nusers:x:100:\n"
    assert content(tars[1], "opt/conda/bin/python")[18:20] == b"\x3e\x00"
    kernel = json.loads(content(tars[1], "opt/conda/share/jupyter/kernels/python3/kernel.json"))
    assert kernel["argv"][0] == "/opt/conda/bin/python"
    assert content(tars[2], "data/beyond-ustar") == b"needs PAX\n"


def test_push_uploads_only_missing_blobs(registry: RegistryProcess) -> None:
    def uploads() -> int:
        return registry.log().count("POST /v2/builder/again/blobs/uploads/")

    # The access log is written as each request ends: wait for the last line to land.
    push(registry.url, "builder/again", "v1", good_image())
    wait_until(lambda: uploads() == 3, timeout=5)  # config and two layers
    push(registry.url, "builder/again", "v2", good_image([EXTRA]))
    wait_until(lambda: uploads() == 5, timeout=5)  # only the new config and the extra layer


def test_a_refused_push_says_what_the_registry_answered(registry: RegistryProcess) -> None:
    # An upper-case repository name matches none of the registry's routes.
    with pytest.raises(
        AssertionError, match="to Builder/UPPER: the registry answered 404: 404 page not found"
    ):
        push(registry.url, "Builder/UPPER", "v1", good_image())


def arm64_image(media: str = "oci") -> Image:
    return Image(
        good_base(machine=0xB7),
        Config(
            architecture="arm64",
            variant="v8",
            user="sagemaker-user",
            workdir="/home/sagemaker-user",
        ),
        media=media,
    )


@pytest.mark.parametrize(("media", "index_type"), [("oci", OCI_INDEX), ("docker2", DOCKER_LIST)])
def test_index_is_stored_with_every_child(
    registry: RegistryProcess, media: str, index_type: str
) -> None:
    amd64 = good_image(media=media)
    arm64 = arm64_image(media)
    index = Index(
        [
            ({"os": "linux", "architecture": "amd64"}, amd64),
            ({"os": "linux", "architecture": "arm64", "variant": "v8"}, arm64),
            attestation_entry(amd64),
        ],
        media=media,
    )
    repository = f"builder/multi-{media}"
    assert push(registry.url, repository, "v1", index) == index.digest

    served_type, digest, document = read_back(registry.url, repository, "v1")
    assert (served_type, digest) == (index_type, index.digest)
    children = document["manifests"]
    assert [child["platform"] for child in children] == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
        {"os": "unknown", "architecture": "unknown"},
    ]
    assert [child["digest"] for child in children] == [c.digest for c in index.children]
    assert children[2]["annotations"] == {
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": amd64.digest,
    }
    for child, built in zip(children, index.children, strict=True):
        served_type, digest, body = get_manifest(registry.url, repository, child["digest"])
        assert (served_type, digest, body) == (
            child["mediaType"],
            built.digest,
            built.manifest()[1],
        )

    arm_manifest = json.loads(arm64.manifest()[1])
    conda = get_blob(registry.url, repository, arm_manifest["layers"][1]["digest"])
    assert content(decompress(conda), "opt/conda/bin/python")[18:20] == b"\xb7\x00"
    arm_config = json.loads(get_blob(registry.url, repository, arm_manifest["config"]["digest"]))
    assert (arm_config["architecture"], arm_config["variant"]) == ("arm64", "v8")


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (
            "oci",
            [
                "application/vnd.oci.image.layer.v1.tar+zstd",
                "application/vnd.oci.image.layer.v1.tar+zstd",
                "application/vnd.oci.image.layer.v1.tar",
            ],
        ),
        ("docker2", ["application/vnd.docker.image.rootfs.diff.tar"] * 3),
    ],
)
def test_zstd_and_uncompressed_layers(
    registry: RegistryProcess, media: str, expected: list[str]
) -> None:
    base = good_base(compression="zstd" if media == "oci" else "none")
    plain = Layer(EXTRA.entries, compression="none")
    image = Image([*base, plain], good_config(), media=media)
    repository = f"builder/compressions-{media}"
    assert push(registry.url, repository, "v1", image) == image.digest

    _, _, manifest = read_back(registry.url, repository, "v1")
    assert [layer["mediaType"] for layer in manifest["layers"]] == expected
    blobs = [get_blob(registry.url, repository, layer["digest"]) for layer in manifest["layers"]]
    if media == "oci":
        assert [blob[:4] for blob in blobs[:2]] == [b"\x28\xb5\x2f\xfd"] * 2
    assert blobs[2] == plain.tar
    config = json.loads(get_blob(registry.url, repository, manifest["config"]["digest"]))
    assert config["rootfs"]["diff_ids"] == [sha256(decompress(blob)) for blob in blobs]
    assert members(decompress(blobs[1])) == members(good_base()[1].tar)
    assert members(blobs[2]) == EXTRA_MEMBERS


def test_docker_manifests_have_no_zstd_layers() -> None:
    with pytest.raises(ValueError, match="zstd"):
        Image(good_base(compression="zstd"), media="docker2").manifest()


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
@pytest.mark.parametrize("kind", ["image", "index"])
def test_skopeo_pushes_an_oci_layout_to_the_same_digest(
    registry: RegistryProcess, tmp_path: Path, kind: str
) -> None:
    built: Image | Index = good_image([EXTRA])
    if kind == "index":
        built = Index(
            [
                ({"os": "linux", "architecture": "amd64"}, built),
                ({"os": "linux", "architecture": "arm64", "variant": "v8"}, arm64_image()),
            ]
        )
    assert push(registry.url, f"builder/pushed-{kind}", "v1", built) == built.digest
    layout = write_oci_layout(tmp_path / "layout", "v1", built)
    write_oci_layout(layout, "other", good_image())  # a second tag beside it

    host = registry.url.removeprefix("http://")
    copied = subprocess.run(
        [
            "skopeo",
            "--insecure-policy",
            "copy",
            *(["--all"] if kind == "index" else []),
            "--dest-tls-verify=false",
            f"oci:{layout}:v1",
            f"docker://{host}/builder/copied-{kind}:v1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        # skopeo's blob-info cache goes in the test's directory (as root it uses /var/lib).
        env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")},
    )
    assert copied.returncode == 0, copied.stderr
    _, digest, _ = read_back(registry.url, f"builder/copied-{kind}", "v1")
    assert digest == built.digest


def test_fake_registry_serves_a_schema1_manifest(fake: FakeRegistry) -> None:
    body = json.dumps(
        {"schemaVersion": 1, "name": "legacy/app", "tag": "v1", "architecture": "amd64"},
        indent=3,
    ).encode()
    digest = fake.put_manifest("legacy/app", "v1", DOCKER_SCHEMA1_SIGNED, body)
    assert digest == sha256(body)
    for reference in ("v1", digest):
        status, headers, served = request(f"{fake.url}/v2/legacy/app/manifests/{reference}")
        assert (status, served) == (200, body)
        assert headers["content-type"] == DOCKER_SCHEMA1_SIGNED
        assert headers["docker-content-digest"] == digest
    status, headers, served = request(f"{fake.url}/v2/legacy/app/manifests/v1", "HEAD")
    assert (status, served, headers["content-length"]) == (200, b"", str(len(body)))
    assert headers["docker-content-digest"] == digest
    assert fake.requests == [
        ("GET", "/v2/legacy/app/manifests/v1"),
        ("GET", f"/v2/legacy/app/manifests/{digest}"),
        ("HEAD", "/v2/legacy/app/manifests/v1"),
    ]


def test_fake_registry_serves_a_blob_that_does_not_match_its_digest(fake: FakeRegistry) -> None:
    claimed = sha256(b"what the manifest promised")
    fake.put_blob("team/app", claimed, b"something else")
    status, headers, body = request(f"{fake.url}/v2/team/app/blobs/{claimed}")
    assert (status, body) == (200, b"something else")
    assert headers["docker-content-digest"] == claimed
    assert get_blob(fake.url, "team/app", claimed) == b"something else"


def test_fake_registry_serves_what_push_would_store(fake: FakeRegistry) -> None:
    index = Index([({"os": "linux", "architecture": "amd64"}, good_image())])
    assert fake.put_image("team/app", "v1", index) == index.digest
    served_type, digest, body = get_manifest(fake.url, "team/app", "v1")
    assert (served_type, digest, body) == (*index.manifest()[:1], index.digest, index.manifest()[1])
    child = index.children[0]
    assert get_manifest(fake.url, "team/app", child.digest)[2] == child.manifest()[1]
    for digest, data in child.blobs().items():
        assert get_blob(fake.url, "team/app", digest) == data


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_fake_registry_streams_a_big_blob(fake: FakeRegistry, declared: bool) -> None:
    chunk_count, chunk_size = 10, 1 << 20
    expected = hashlib.sha256()
    for index in range(chunk_count):
        expected.update(bytes([index]) * chunk_size)
    digest = "sha256:" + expected.hexdigest()
    made = []

    def chunks() -> Iterator[bytes]:
        made.append(1)
        for index in range(chunk_count):
            yield bytes([index]) * chunk_size

    size = chunk_count * chunk_size if declared else None
    fake.put_blob_stream("team/big", digest, chunks, size=size)
    connection = http.client.HTTPConnection("127.0.0.1", int(fake.url.rsplit(":", 1)[1]))
    try:
        connection.request("GET", f"/v2/team/big/blobs/{digest}")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Docker-Content-Digest") == digest
        if declared:
            assert response.getheader("Content-Length") == str(size)
        else:
            assert response.getheader("Transfer-Encoding") == "chunked"
        received, total = hashlib.sha256(), 0
        while piece := response.read(256 * 1024):
            received.update(piece)
            total += len(piece)
    finally:
        connection.close()
    assert (total, "sha256:" + received.hexdigest()) == (chunk_count * chunk_size, digest)
    status, _, body = request(f"{fake.url}/v2/team/big/blobs/{digest}", "HEAD")
    assert (status, body) == (200, b"")
    assert made == [1]  # HEAD never ran the generator


def test_fake_registry_answers_404_with_distribution_errors(fake: FakeRegistry) -> None:
    assert request(f"{fake.url}/v2/")[::2] == (200, b"{}")
    missing = {
        "/v2/team/app/manifests/v1": "MANIFEST_UNKNOWN",
        f"/v2/team/app/manifests/{sha256(b'')}": "MANIFEST_UNKNOWN",
        f"/v2/team/app/blobs/{sha256(b'')}": "BLOB_UNKNOWN",
        "/v2/team/app/tags/list": "NOT_FOUND",
        "/elsewhere": "NOT_FOUND",
    }
    for path, code in missing.items():
        status, headers, body = request(fake.url + path)
        assert (status, headers["content-type"]) == (404, "application/json"), path
        assert json.loads(body)["errors"][0]["code"] == code, path
    assert json.loads(request(fake.url + "/v2/team/app/manifests/v1")[2]) == {
        "errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]
    }
    status, _, body = request(f"{fake.url}/v2/team/app/blobs/uploads/", "POST", b"")
    assert (status, json.loads(body)["errors"][0]["code"]) == (405, "UNSUPPORTED")
    assert [path for _, path in fake.requests[1:6]] == list(missing)
