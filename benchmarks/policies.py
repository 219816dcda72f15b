"""What IAM policies cost a call: instructions per signed DescribeImageVersion in-process,
by the account's root user (no policies) and by a key holding 10 policies of 10 statements
each, every one of them about the call's action (the worst case: each is evaluated).

Counted under `valgrind --tool=callgrind` as in instructions.py: (run with N calls) - (run
with none), divided by N, on a fresh SQLite catalog holding one image with one version.

    python benchmarks/policies.py [--calls 2000]

Needs valgrind (Debian: apt-get install valgrind); takes about eight minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instructions import asgi_call, expect_ok, per_call

ACCOUNT = "111111111111"
SECRET = "bench-secret"
ROOT_KEY = "AKIABENCHROOT0000001"
POLICY_KEY = "AKIABENCHPOLICY00001"
BODY = b'{"ImageName":"bench","Version":1}'


def _statements(policy: int) -> list[dict[str, Any]]:
    """Ten statements about DescribeImageVersion; only the last of the last policy allows."""
    found: list[dict[str, Any]] = []
    for number in range(10):
        last = policy == 9 and number == 9
        statement: dict[str, Any] = {
            "Sid": f"P{policy}S{number}",
            "Effect": "Deny" if number % 5 == 3 else "Allow",
            "Action": ["sagemaker:DescribeImage*", "sagemaker:ListAliases"],
            "Resource": (
                "arn:aws:sagemaker:*:*:image-version/bench/*"
                if last
                else f"arn:aws:sagemaker:*:{ACCOUNT}:image-version/team-{policy}-{number}-*/*"
            ),
        }
        if number % 3 == 0:
            statement["Condition"] = {
                "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                "Bool": {"aws:SecureTransport": "false"},
            }
        found.append(statement)
    return found


def _credentials(path: Path) -> None:
    keys = (
        f'[[keys]]\naccess_key_id = "{ROOT_KEY}"\nsecret_access_key = "{SECRET}"\n'
        f'account_id = "{ACCOUNT}"\n\n'
        f'[[keys]]\naccess_key_id = "{POLICY_KEY}"\nsecret_access_key = "{SECRET}"\n'
        f'account_id = "{ACCOUNT}"\nprincipal = "arn:aws:iam::{ACCOUNT}:user/bench"\n'
        f"policies = {json.dumps([f'p{n}' for n in range(10)])}\n\n"
    )
    for number in range(10):
        document = json.dumps({"Version": "2012-10-17", "Statement": _statements(number)})
        keys += f"[policies.p{number}]\ndocument = '''{document}'''\n\n"
    path.write_text(keys)


def _signed(key: str, target: str, body: bytes) -> list[tuple[bytes, bytes]]:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"SageMaker.{target}",
        },
    )
    SigV4Auth(Credentials(key, SECRET), "sagemaker", "us-east-1").add_auth(request)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    return [(b"host", b"127.0.0.1"), *headers]


def _application(database: str, credentials: str) -> Any:
    from sagemaker_images.config import Settings
    from sagemaker_images.server.app import Application

    return Application(
        Settings(database_url=database, transitions="0", credentials_file=credentials)
    )


async def _fill(database: str, credentials: str) -> None:
    app = _application(database, credentials)
    await app.startup()
    role = f"arn:aws:iam::{ACCOUNT}:role/bench"
    for target, body in (
        ("CreateImage", b'{"ImageName":"bench","RoleArn":"%s"}' % role.encode()),
        ("CreateImageVersion", b'{"ImageName":"bench","BaseImage":"r/x:1","ClientToken":"t"}'),
    ):
        await app(*asgi_call(_signed(ROOT_KEY, target, body), body), expect_ok)
        assert app.store is not None
        while await app.store.reader.jobs.next_due_ms() is not None:
            await asyncio.sleep(0.05)
    await app.shutdown()


async def _calls(key: str, database: str, credentials: str, count: int) -> None:
    """What runs under valgrind: `count` signed Describe calls, nothing else."""
    app = _application(database, credentials)
    await app.startup()
    assert app.worker is not None
    await app.worker.stop()
    app.worker = None
    scope, receive = asgi_call(_signed(key, "DescribeImageVersion", BODY), BODY)
    for _ in range(count):
        await app(scope, receive, expect_ok)
    await app.shutdown()


def _command(key: str, database: str, credentials: str) -> Callable[[int], list[str]]:
    def command(count: int) -> list[str]:
        run = [sys.executable, __file__, "--run", key, "--database", database]
        return [*run, "--credentials", credentials, "--calls", str(count)]

    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--credentials", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.run:
        asyncio.run(_calls(options.run, options.database, options.credentials, options.calls))
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="sagemaker-images-policies-") as workdir:
        database = f"sqlite:///{Path(workdir) / 'catalog.db'}"
        credentials = str(Path(workdir) / "credentials.toml")
        _credentials(Path(credentials))
        asyncio.run(_fill(database, credentials))
        counts = {}
        for label, key in (("root user, no policies", ROOT_KEY), ("10 policies x 10", POLICY_KEY)):
            counts[label] = per_call(_command(key, database, credentials), options.calls)
            print(f"DescribeImageVersion, {label:22}: {counts[label]:10,.0f} instructions a call")
        ratio = counts["10 policies x 10"] / counts["root user, no policies"]
        print(f"policies cost {ratio - 1:+.1%} a call")


if __name__ == "__main__":
    main()
