"""Server time of the web catalog's pages on a large catalog.

A fresh catalog (SQLite by default, or `--postgresql URL` of an empty database) is filled
through the API with 10,000 images and one more image of 10,000 versions; then each page
is asked for `--repeat` times by calling the ASGI application directly (no sockets, no
uvicorn: the time is the server's own), and the median and 90th percentile are printed.

    python benchmarks/web_catalog.py [--images 10000] [--versions 10000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sagemaker_images.config import Settings
from sagemaker_images.server.app import Application

ROLE = "arn:aws:iam::123456789012:role/bench"
PAGES = (
    ("images list, first page (newest first)", "/ui/", b""),
    ("images list, sorted by name, filtered", "/ui/", b"q=img-09&sort=name&order=asc"),
    ("image of 10,000 versions, first page", "/ui/images/big", b""),
    ("one version", "/ui/images/big/versions/{middle}", b""),
    ("AppImageConfigs list", "/ui/app-image-configs", b""),
)


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body += message.get("body", b"")


async def request(
    app: Application, method: str, path: str, query: bytes, body: bytes = b"", target: str = ""
) -> Answer:
    headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
    if target:
        headers.append((b"x-amz-target", f"SageMaker.{target}".encode()))
        headers.append((b"content-type", b"application/x-amz-json-1.1"))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
    }
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    answer = Answer()
    await app(scope, receive, answer)
    return answer


async def call(app: Application, target: str, **members: Any) -> None:
    answer = await request(app, "POST", "/", b"", json.dumps(members).encode(), target)
    if answer.status != 200:
        raise RuntimeError(f"{target} answered {answer.status}: {answer.body[:200]!r}")


async def fill(app: Application, images: int, versions: int) -> None:
    started = time.perf_counter()
    for index in range(images):
        await call(
            app,
            "CreateImage",
            ImageName=f"img-{index:05d}",
            RoleArn=ROLE,
            Tags=[{"Key": "team", "Value": f"t{index % 7}"}],
        )
    await call(app, "CreateImage", ImageName="big", RoleArn=ROLE)
    for number in range(1, versions + 1):
        extra = {"Aliases": [f"a{number}"]} if number % 10 == 0 else {}
        await call(
            app,
            "CreateImageVersion",
            ImageName="big",
            BaseImage=f"registry.example/big:{number}",
            ClientToken=str(uuid.uuid4()),
            **extra,
        )
    for index in range(60):
        await call(
            app,
            "CreateAppImageConfig",
            AppImageConfigName=f"config-{index:02d}",
            KernelGatewayImageConfig={"KernelSpecs": [{"Name": "python3"}]},
        )
    print(
        f"filled {images:,} images and {versions:,} versions in"
        f" {time.perf_counter() - started:.1f} s"
    )


async def measure(database: str, images: int, versions: int, repeat: int) -> None:
    settings = Settings(
        database_url=database,
        transitions="immediate",
        access_log=False,
        metrics=False,
        max_images=images + 10,
        max_versions_per_image=versions + 10,
    )
    app = Application(settings, own_process=False)
    await app.startup()
    try:
        await fill(app, images, versions)
        if database.startswith("postgres"):
            # Statistics of the bulk load, as autovacuum gathers them soon after one.
            import psycopg

            with psycopg.connect(database, autocommit=True) as connection:
                connection.execute("ANALYZE")
        print(f"{'page':<42} {'median ms':>10} {'p90 ms':>8} {'KiB':>6}")
        for label, path, query in PAGES:
            times = []
            size = 0
            for _ in range(repeat):
                started = time.perf_counter()
                answer = await request(app, "GET", path.format(middle=versions // 2), query)
                times.append((time.perf_counter() - started) * 1000)
                if answer.status != 200:
                    raise RuntimeError(f"{path} answered {answer.status}")
                size = len(answer.body)
            times.sort()
            p90 = times[int(len(times) * 0.9) - 1]
            print(f"{label:<42} {statistics.median(times):>10.2f} {p90:>8.2f} {size / 1024:>6.1f}")
    finally:
        await app.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgresql", help="URL of an empty PostgreSQL database")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = options.postgresql or f"sqlite:///{Path(folder) / 'catalog.db'}"
        print(f"database: {'PostgreSQL' if options.postgresql else 'SQLite'}")
        asyncio.run(measure(database, options.images, options.versions, options.repeat))


if __name__ == "__main__":
    main()
