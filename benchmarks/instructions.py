"""Instructions per DescribeImageVersion in-process, ours beside the bare app's.

Timings on a shared virtual machine move by a third between runs; instruction counts under
`valgrind --tool=callgrind` do not. Each figure is (run with N calls) - (run with none),
divided by N: the ASGI app is called directly, with no sockets, no uvicorn and no background
tasks, on a fresh SQLite catalog holding one image with one version.

    python benchmarks/instructions.py [--calls 2000]

Needs valgrind (Debian: apt-get install valgrind); takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagemaker_images.server.app import Application

HERE = Path(__file__).resolve().parent
Receive = Callable[[], Awaitable[dict[str, Any]]]


def asgi_call(headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[dict[str, Any], Receive]:
    """An ASGI scope and receive for one call with these headers, as uvicorn would hand
    them over (from 127.0.0.1, over plain HTTP)."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
    }
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    return scope, receive


def _request(target: str, body: bytes) -> tuple[dict[str, Any], Receive]:
    """An unsigned SageMaker call."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/x-amz-json-1.1"),
        (b"x-amz-target", f"SageMaker.{target}".encode()),
    ]
    return asgi_call(headers, body)


async def expect_ok(message: Any) -> None:
    """An ASGI send that fails the run on any answer but a 200."""
    if message["type"] == "http.response.start" and message["status"] != 200:
        raise RuntimeError(f"the call answered HTTP {message['status']}")


def count_instructions(command: list[str]) -> int:
    """The instructions callgrind counts for running `command` (a Python program), with
    one hash seed for every run: string hashing decides how dictionaries grow, and a
    random seed moves a run's count by millions."""
    traced = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(traced, capture_output=True, text=True, check=True, env=env)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"no count from valgrind:\n{result.stderr[-2000:]}")
    return int(found.group(1))


DESCRIBE = _request("DescribeImageVersion", b'{"ImageName":"bench","Version":1}')


async def _calls(which: str, database: str, count: int, options: list[str]) -> None:
    """What runs under valgrind: `count` Describe calls to one app, nothing else."""
    scope, receive = DESCRIBE
    if which == "bare":
        sys.path.insert(0, str(HERE))
        from bare_app import app

        for _ in range(count):
            await app(scope, receive, expect_ok)
        return
    ours = _application(database, options)
    await ours.startup()
    assert ours.worker is not None
    await ours.worker.stop()  # its polling would count for as long as the run lasts
    ours.worker = None
    for _ in range(count):
        await ours(scope, receive, expect_ok)
    await ours.shutdown()


async def _fill(database: str) -> None:
    """One image with one CREATED version, made through the app's own calls."""
    app = _application(database)
    await app.startup()
    role = "arn:aws:iam::123456789012:role/bench"
    for target, body in (
        ("CreateImage", b'{"ImageName":"bench","RoleArn":"%s"}' % role.encode()),
        ("CreateImageVersion", b'{"ImageName":"bench","BaseImage":"r/x:1","ClientToken":"t"}'),
    ):
        await app(*_request(target, body), expect_ok)
        assert app.store is not None
        while await app.store.reader.jobs.next_due_ms() is not None:
            await asyncio.sleep(0.05)  # CREATING -> CREATED
    await app.shutdown()


def _application(database: str, options: list[str] = ()) -> Application:  # type: ignore[assignment]
    """The app as `serve` would run it (access log and metrics on), with `NAME=VALUE`
    settings changed."""
    from dataclasses import fields

    from sagemaker_images.config import Settings
    from sagemaker_images.server.app import Application

    kinds = {f.name: type(f.default) for f in fields(Settings)}
    changed: dict[str, Any] = {}
    for option in options:
        name, _, text = option.partition("=")
        changed[name] = text.lower() in {"1", "true", "on"} if kinds[name] is bool else text
    return Application(Settings(database_url=database, transitions="0", auth="off", **changed))


def per_call(command: Callable[[int], list[str]], calls: int) -> float:
    """Instructions a call: (the run of `command(calls)`) - (the run of `command(0)`),
    divided by `calls`, so that start-up and shutdown cancel out."""
    return (count_instructions(command(calls)) - count_instructions(command(0))) / calls


def _command(which: str, database: str, options: list[str]) -> Callable[[int], list[str]]:
    def command(count: int) -> list[str]:
        run = [sys.executable, __file__, "--run", which, "--database", database]
        return [*run, "--calls", str(count), *(f"--set={option}" for option in options)]

    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the server changed (e.g. access_log=false, metrics=false)",
    )
    parser.add_argument("--run", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.run:
        asyncio.run(_calls(options.run, options.database, options.calls, options.set))
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="sagemaker-images-count-") as workdir:
        database = f"sqlite:///{Path(workdir) / 'catalog.db'}"
        asyncio.run(_fill(database))
        for which in ("ours", "bare"):
            each = per_call(_command(which, database, options.set), options.calls)
            print(f"DescribeImageVersion, {which:4}: {each:10,.0f} instructions a call")


if __name__ == "__main__":
    main()
