"""The preflight's reading speed and memory, beside `tar -tzf` of the same layer.

Builds an image whose one layer holds 100,000 files in 1 GiB (gzip level 1; a few minutes
to build), serves it from a registry on 127.0.0.1, and times, in the same run:

- `tar -tzf layer.tar.gz`: GNU tar listing the layer (decompressing it whole);
- the preflight reading the image (manifest, config, the layer streamed from the registry,
  hashed, decompressed and parsed), in a child process whose peak memory is measured.

    python benchmarks/doctor.py [--files 100000] [--bytes 1073741824] [--keep DIR]

Targets: the preflight at 40% of tar's rate or better, under 150 MB at its peak.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from oci_builder import FakeRegistry  # noqa: E402

CHUNK = 1 << 20


def build_layer(path: Path, files: int, total: int) -> tuple[str, str, int]:
    """Write the layer (gzip) to `path`: (its digest, the tar's digest, its size)."""
    size = max(1, total // files)
    tar_digest = hashlib.sha256()

    class Hashing(io.RawIOBase):
        """What the tar writes goes through gzip to the file, and into the diff id."""

        def __init__(self, sink: gzip.GzipFile) -> None:
            self._sink = sink

        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            tar_digest.update(data)
            self._sink.write(data)
            return len(data)

    seed = os.urandom(size * 2)
    with (
        gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) as gz,
        tarfile.open(fileobj=Hashing(gz), mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for number in range(files):
            info = tarfile.TarInfo(f"data/{number // 1000:03d}/file-{number:06d}.bin")
            info.size = size
            info.mode = 0o644
            start = (number * 7919) % size
            tar.addfile(info, io.BytesIO(seed[start : start + size]))
    digest = hashlib.sha256()
    with path.open("rb") as layer:
        while chunk := layer.read(CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest(), "sha256:" + tar_digest.hexdigest(), path.stat().st_size


def serve(fake: FakeRegistry, layer: Path, digest: str, diff_id: str, size: int) -> None:
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest,
                    "size": size,
                }
            ],
        }
    ).encode()

    def chunks():  # type: ignore[no-untyped-def]
        with layer.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    fake.put_blob("bench", config_digest, config)
    fake.put_blob_stream("bench", digest, chunks, size=size)
    fake.put_manifest("bench", "1", "application/vnd.oci.image.manifest.v1+json", manifest)


READER = """
import asyncio, json, sys, time
from sagemaker_images.doctor.read import read_image
from sagemaker_images.registry.client import RegistryClient
from sagemaker_images.registry.config import Registries, RegistryConfig
from sagemaker_images.registry.reference import parse_reference

async def main():
    registries = Registries({"bench.example": RegistryConfig(endpoint=sys.argv[1])})
    client = RegistryClient(registries, timeout_seconds=600)
    started = time.monotonic()
    facts = await read_image(client, parse_reference("bench.example/bench:1"), layers=True)
    took = time.monotonic() - started
    await client.close()
    print(json.dumps({"seconds": took, "entries": len(facts.entries), "complete": facts.complete,
                      "uncompressed": facts.uncompressed_bytes}))

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--bytes", type=int, default=1 << 30)
    parser.add_argument("--keep", type=Path, help="build the layer here (reused when present)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="doctor-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    layer = work / f"layer-{args.files}-{args.bytes}.tar.gz"
    facts_file = layer.with_suffix(".json")
    if layer.exists() and facts_file.exists():
        digest, diff_id, size = json.loads(facts_file.read_text())
    else:
        print(f"building a layer of {args.files} files, {args.bytes} bytes...", file=sys.stderr)
        digest, diff_id, size = build_layer(layer, args.files, args.bytes)
        facts_file.write_text(json.dumps([digest, diff_id, size]))
    started = time.monotonic()
    subprocess.run(["tar", "-tzf", str(layer)], check=True, stdout=subprocess.DEVNULL)
    tar_seconds = time.monotonic() - started
    with FakeRegistry() as fake:
        serve(fake, layer, digest, diff_id, size)
        answer = subprocess.run(
            [sys.executable, "-c", READER, fake.url], check=True, capture_output=True, text=True
        )
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    read = json.loads(answer.stdout)
    assert read["complete"] and read["entries"] >= args.files, read
    rate = tar_seconds / read["seconds"]
    print(
        f"layer: {size / 2**20:.0f} MiB gzip, {read['uncompressed'] / 2**20:.0f} MiB tar,"
        f" {args.files} files"
    )
    print(f"tar -tzf:  {tar_seconds:6.2f} s")
    print(
        f"preflight: {read['seconds']:6.2f} s ({rate:.0%} of tar's rate), peak"
        f" {peak_kib / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
