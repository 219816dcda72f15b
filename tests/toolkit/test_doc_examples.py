"""The code in the docs runs as written: every Python block of README.md and docs/ is run
against a real server (the one change: `http://127.0.0.1:8080` becomes that server's URL),
and every other block of README.md is run too, or is listed below with the reason it is
not. (The other docs' shell and configuration blocks are commands of the CLI and files it
reads, tested by the end-to-end tier.)

A block that defines pytest tests runs under pytest, in a project of its own where
`my_pipeline` is what the examples suppose: code that publishes an image with boto3.

The blocks about the container image (docs/containers.md, README's Containers section) are
the container tier's: tests/containers/test_container_docs.py runs them against the image.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from container_support import container_blocks

from sagemaker_images.testing import SageMakerImagesServer

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
ENDPOINT = "http://127.0.0.1:8080"
# Where the examples suppose moto's server (EventBridge, SQS): one is started for them.
MOTO_ENDPOINT = "http://127.0.0.1:5000"

# README's blocks that are not run, by their first line, and why.
NOT_RUN = {
    "make serve    # creates .venv, installs, serves on http://127.0.0.1:8080 (SQLite in your data dir)": (
        "the two commands: make serve runs until stopped, make test is CI itself"
    ),
    "pip install /path/to/sagemaker-images        # or the wheel: python -m build makes one": (
        "installs into the reader's environment; tests/e2e/test_package.py builds and"
        " installs the wheel"
    ),
}

MY_PIPELINE = '''
import boto3


def publish(name):
    """What the examples suppose of a user's code: an image made with boto3."""
    sm = boto3.client("sagemaker")
    sm.create_image(ImageName=name, RoleArn="arn:aws:iam::123456789012:role/SageMaker")
    sm.get_waiter("image_created").wait(ImageName=name, WaiterConfig={"Delay": 1})
'''


def blocks() -> Iterator[tuple[str, str, str]]:
    """(where, language, code) of every fenced block of the documents but the container
    tier's."""
    theirs = {where for where, _, _ in container_blocks()}
    for document in DOCUMENTS:
        text = document.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{document.relative_to(ROOT)}:{line}"
            if where not in theirs:
                yield where, match.group(1), match.group(2)


PYTHON = [
    pytest.param(code, id=where) for where, language, code in blocks() if language == "python"
]
README_OTHERS = [
    pytest.param(where, language, code, id=where)
    for where, language, code in blocks()
    if where.startswith("README.md") and language != "python"
]


@pytest.fixture(scope="module")
def server() -> Iterator[SageMakerImagesServer]:
    with SageMakerImagesServer() as started:
        yield started


def _environment(server: SageMakerImagesServer) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from event_support import moto_server

    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.mark.parametrize("code", PYTHON)
def test_each_python_block_runs(
    code: str, server: SageMakerImagesServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server.reset()
    code = code.replace(ENDPOINT, server.endpoint_url)
    if MOTO_ENDPOINT in code:
        code = code.replace(MOTO_ENDPOINT, request.getfixturevalue("moto"))
    env = _environment(server)
    (tmp_path / "my_pipeline.py").write_text(MY_PIPELINE)
    if re.search(r"^def test_|^class \w+\(unittest\.TestCase\)|TestCase\):", code, re.MULTILINE):
        # Tests, as a user's project holds them: `my_pipeline` is imported as they suppose.
        (tmp_path / "test_example.py").write_text("import my_pipeline\nimport pytest\n" + code)
        result = _run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path, env
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout
        return
    (tmp_path / "example.py").write_text(code)
    result = _run([sys.executable, "example.py"], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("where", "language", "code"), README_OTHERS, ids=lambda v: v if ":" in str(v) else ""
)
def test_each_other_block_of_the_readme_runs_or_says_why_not(
    where: str, language: str, code: str, server: SageMakerImagesServer, tmp_path: Path
) -> None:
    first = code.splitlines()[0]
    if first in NOT_RUN:
        assert NOT_RUN[first]
        return
    assert language == "sh", f"{where}: a {language!r} block with no way to run it"
    server.reset()
    env = {
        **_environment(server),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    script = code.replace(ENDPOINT, server.endpoint_url)
    # The README's CLI block reads what its Python block made: make it first.
    sm: Any = server.client()
    sm.create_image(ImageName="analytics", RoleArn="arn:aws:iam::123456789012:role/SageMaker")
    sm.create_image_version(ImageName="analytics", BaseImage="registry.example/analytics:1.0")
    result = _run(["bash", "-euo", "pipefail", "-c", script], tmp_path, env)
    assert result.returncode == 0, f"{where}:\n{result.stdout}{result.stderr}"
