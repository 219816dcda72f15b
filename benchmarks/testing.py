"""What the test toolkit costs a user's test run: start, reset, and one create-and-wait.

    python benchmarks/testing.py [--rounds 20]

Prints medians over the rounds of:
- starting `SageMakerImagesServer()` in-process (uvicorn, the application, a fresh
  temporary SQLite catalog) until it answers: first in a fresh interpreter (the package's
  imports included), then again;
- `reset()` of a catalog holding 1,000 images and 10,000 versions;
- a test's work with immediate transitions: CreateImage, its waiter, CreateImageVersion,
  its waiter, beside the same four boto3 calls to a bare ASGI app that answers each with a
  fixed body: the difference is what the server adds to the calls themselves.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import boto3
import uvicorn
from botocore.config import Config

from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.testing import SageMakerImagesServer

ROLE = "arn:aws:iam::123456789012:role/Bench"
ONCE = {"Delay": 1, "MaxAttempts": 1}


def timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


COLD_START = """
import time
started = time.perf_counter()
from sagemaker_images.testing import SageMakerImagesServer
server = SageMakerImagesServer().start()
print((time.perf_counter() - started) * 1000)
server.stop()
"""


def cold_start_times(rounds: int) -> list[float]:
    """Start in a fresh interpreter, the imports of the package included."""
    return [
        float(subprocess.run([sys.executable, "-c", COLD_START], capture_output=True,
                             text=True, check=True).stdout)
        for _ in range(rounds)
    ]  # fmt: skip


def start_times(rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        server = SageMakerImagesServer()
        times.append(timed(server.start))
        server.stop()
    return times


def fill(server: SageMakerImagesServer, images: int, versions_each: int) -> None:
    """Rows straight into the catalog's store, as fast as it takes them."""
    import asyncio

    from sagemaker_images.resources.records import ImageRecord, VersionRecord
    from sagemaker_images.store import open_store

    async def write() -> None:
        store = await open_store(server.settings)  # beside the server: not `serving`
        async with store.transaction() as tx:
            for n in range(images):
                name = f"image-{n}"
                image_id = await tx.of(IMAGE).insert(
                    ImageRecord(0, "123456789012", "us-east-1", name, name, None, None, ROLE,
                                "CREATED", None, 1, 1, versions_each, versions_each)
                )  # fmt: skip
                for v in range(1, versions_each + 1):
                    await tx.versions.insert(
                        VersionRecord(image_id, v, "r/x:1", "r/x:1", "CREATED", None, None,
                                      None, None, None, None, None, None, 1, 1)
                    )  # fmt: skip
        await store.close()

    asyncio.run(write())


def reset_times(server: SageMakerImagesServer, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        fill(server, 1000, 10)
        assert len(server.client().list_images(MaxResults=100)["Images"]) == 100
        times.append(timed(server.reset))
    return times


def create_and_wait(sm: Any, name: str) -> None:
    sm.create_image(ImageName=name, RoleArn=ROLE)
    sm.get_waiter("image_created").wait(ImageName=name, WaiterConfig=ONCE)
    sm.create_image_version(ImageName=name, BaseImage="registry.example/bench:1")
    sm.get_waiter("image_version_created").wait(ImageName=name, Version=1, WaiterConfig=ONCE)


class BareApp:
    """Answers every call with a fixed body: what the four calls cost without a server."""

    BODIES: ClassVar[dict[bytes, bytes]] = {
        b"SageMaker.CreateImage": b'{"ImageArn":"arn:aws:sagemaker:us-east-1:1:image/x"}',
        b"SageMaker.DescribeImage": b'{"ImageStatus":"CREATED"}',
        b"SageMaker.CreateImageVersion": b'{"ImageVersionArn":"arn:aws:sagemaker:us-east-1:1:image-version/x/1"}',  # noqa: E501
        b"SageMaker.DescribeImageVersion": b'{"ImageVersionStatus":"CREATED"}',
    }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        target = dict(scope["headers"]).get(b"x-amz-target", b"")
        body = self.BODIES.get(target, b"{}")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/x-amz-json-1.1")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def bare_endpoint() -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(BareApp(), loop="auto", http="httptools", log_config=None)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.002)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def client(endpoint: str) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    sys.path.insert(0, str(Path(__file__).parent))

    cold = cold_start_times(max(3, rounds // 4))
    starts = start_times(rounds)
    with SageMakerImagesServer() as server:
        resets = reset_times(server, max(3, rounds // 4))
        sm = client(server.endpoint_url)
        create_and_wait(sm, "warm-up")
        ours = [timed(lambda n=n: create_and_wait(sm, f"image-{n}")) for n in range(rounds)]
    endpoint, bare_server = bare_endpoint()
    bare = client(endpoint)
    create_and_wait(bare, "warm-up")
    calls = [timed(lambda: create_and_wait(bare, "x")) for _ in range(rounds)]
    bare_server.should_exit = True

    def show(label: str, values: list[float]) -> None:
        print(f"{label:<62} median {statistics.median(values):7.1f} ms  (of {len(values)})")

    show("SageMakerImagesServer().start(), first in a process (imports too)", cold)
    show("SageMakerImagesServer().start(), again", starts)
    show("reset() of 1,000 images and 10,000 versions", resets)
    show("create image + version, waiters (immediate transitions)", ours)
    show("the same four calls to a bare app", calls)
    print(f"{'what the server adds to the four calls':<62} median "
          f"{statistics.median(ours) - statistics.median(calls):7.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
