"""The container tier's engine: podman and buildah as this machine can run them.

What users run (Containerfile, compose.yaml, `make image`) is used as it is; what only a
sandbox needs stays here:

- runs use the `runc` runtime, the `cgroupfs` cgroup manager and no default rlimits (the
  sandbox refuses podman's), through a containers.conf of the run's own (CONTAINERS_CONF);
- builds use `--isolation chroot`, and the build's pip is given this machine's CA bundle
  (its outbound TLS is intercepted) as a build secret;
- no registry is reachable, so the images the project's files name as bases (Containerfile's
  python, compose.yaml's postgres) are stand-ins made from Debian's packages with mmdebstrap
  and tagged with those names. They are kept in podman's storage between runs and made
  again only when their recipe changes; a real image of that name is used as it is;
- podman 4.3 runs no health timers without systemd: the tests run a container's health
  check themselves (`podman healthcheck run`) where Docker would wait on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAND_INS = ROOT / "tests" / "containers"
# What `make image` tags with podman, and compose.yaml and SageMakerImagesContainer use.
IMAGE = "localhost/sagemaker-images:latest"
PYTHON_BASE = "docker.io/library/python:3.11-slim-bookworm"  # Containerfile's BASE
POSTGRES_IMAGE = "docker.io/library/postgres:15-bookworm"  # compose.yaml's
STAND_IN_LABEL = "org.sagemaker-images.test.stand-in"
# Debian bookworm's Python is 3.11, as the base's; the venv module brings pip with it.
PYTHON_PACKAGES = ("python3", "python3-venv")
POSTGRES_PACKAGES = ("postgresql-15",)
TOOLS = ("podman", "buildah", "runc", "mmdebstrap")

SANDBOX_CONF = """\
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""


def ca_bundle() -> str:
    """The CA bundle this machine's TLS clients trust (here, that of a proxy that
    intercepts TLS), for the build's pip: what pip is told to use, else the system's."""
    for candidate in (
        os.environ.get("PIP_CERT"),
        os.environ.get("SSL_CERT_FILE"),
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return ""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class Podman:
    """podman, buildah and podman-compose with the sandbox's containers.conf."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.postgres_ready: Future[None] | None = None  # its stand-in, made in the background
        conf = workdir / "containers.conf"
        conf.write_text(SANDBOX_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def run(
        self, *args: str, check: bool = True, timeout: float = 120, program: str = "podman"
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [program, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{program} {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def output(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def inspect(self, container: str, template: str) -> str:
        return self.output("inspect", container, "--format", template)

    def label(self, image: str, name: str) -> str | None:
        """An image's label, '' when it has none, None when there is no such image."""
        if self.run("image", "exists", image, check=False).returncode != 0:
            return None
        return self.output("image", "inspect", image, "--format", f'{{{{index .Labels "{name}"}}}}')

    def host_port(self, container: str, port: int = 8080) -> int:
        """The host port a container's port is published on (`-p 127.0.0.1::8080`)."""
        mapped = self.output("port", container, f"{port}/tcp").splitlines()[0]
        return int(mapped.rsplit(":", 1)[1])

    def healthy(self, container: str) -> bool:
        """The container's own HEALTHCHECK, run once now."""
        return self.run("healthcheck", "run", container, check=False).returncode == 0

    def remove(self, *containers: str) -> None:
        """Remove containers with their anonymous volumes, whatever state they are in."""
        if containers:
            self.run("rm", "--force", "--volumes", "--ignore", *containers, check=False)

    # -- images --------------------------------------------------------------------------

    def stand_in(self, name: str, packages: tuple[str, ...], finish: Path | None = None) -> None:
        """`name`, made from Debian bookworm's `packages` (and, if given, the Containerfile
        in `finish` built on them) unless podman has it: a real image, or a stand-in made
        from the same recipe."""
        bootstrap_command = [
            "mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(packages)}",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            "bookworm", "-",
        ]  # fmt: skip
        recipe = hashlib.sha256(" ".join(bootstrap_command).encode())
        if finish is not None:
            for path in sorted(finish.iterdir()):
                recipe.update(path.name.encode() + path.read_bytes())
        tag = recipe.hexdigest()[:16]
        found = self.label(name, STAND_IN_LABEL)
        if found is not None and found in {"", tag}:
            return  # a real image (no label), or the stand-in of this very recipe
        replaced = self.image_id(name)  # a stand-in of another recipe
        raw = name if finish is None else f"localhost/stand-in-raw:{tag}"
        log = self.workdir / f"mmdebstrap-{tag}.log"
        with (
            log.open("wb") as errors,
            subprocess.Popen(
                bootstrap_command, stdout=subprocess.PIPE, stderr=errors, env=self.env
            ) as bootstrap,
        ):
            imported = subprocess.run(
                ["podman", "import",
                 "--change", f"LABEL {STAND_IN_LABEL}={tag}",
                 "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "--change", "ENV LANG=C.UTF-8",
                 "--change", 'CMD ["python3"]',
                 "-", raw],
                stdin=bootstrap.stdout,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
            )  # fmt: skip
        assert bootstrap.returncode == 0, f"mmdebstrap failed:\n{log.read_text()}"
        assert imported.returncode == 0, imported.stdout + imported.stderr
        if finish is not None:
            self.run(
                "bud", "--isolation", "chroot", "--build-arg", f"RAW={raw}",
                "--label", f"{STAND_IN_LABEL}={tag}", "--tag", name, str(finish),
                program="buildah", timeout=600,
            )  # fmt: skip
            self.run("rmi", raw, check=False)
        if replaced is not None:
            self.run("rmi", replaced, check=False)

    def image_id(self, image: str) -> str | None:
        if self.run("image", "exists", image, check=False).returncode != 0:
            return None
        return self.output("image", "inspect", image, "--format", "{{.Id}}")

    def build_image(self) -> None:
        """The project's image, built by `make image` from the Containerfile as users
        build it (chroot isolation being the sandbox's), on the stand-in base.

        Without the layer cache: the sources change between runs, so it would rarely
        serve, and its images would pile up run after run. The image it replaces goes too.
        """
        self.stand_in(PYTHON_BASE, PYTHON_PACKAGES)
        replaced = self.image_id(IMAGE)
        result = subprocess.run(
            ["make", "--no-print-directory", "-C", str(ROOT), "image",
             "ENGINE=podman", f"IMAGE={IMAGE}", f"CA_BUNDLE={ca_bundle()}",
             "IMAGE_ARGS=--isolation chroot --layers=false"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )  # fmt: skip
        assert result.returncode == 0, f"make image failed:\n{result.stdout}{result.stderr}"
        if replaced is not None and replaced != self.image_id(IMAGE):
            self.run("rmi", replaced, check=False)  # kept if a container still uses it

    def postgres_stand_in(self) -> None:
        self.stand_in(POSTGRES_IMAGE, POSTGRES_PACKAGES, STAND_INS / "postgres-stand-in")

    def postgres(self) -> None:
        """compose.yaml's PostgreSQL image, once made in the background or now."""
        if self.postgres_ready is not None:
            self.postgres_ready.result()
        else:
            self.postgres_stand_in()

    # -- the Docker API ------------------------------------------------------------------

    @contextlib.contextmanager
    def docker_api(self) -> Iterator[str]:
        """`podman system service` on a socket of its own, for Docker clients (Testcontainers);
        yields its DOCKER_HOST, and stops it after."""
        socket = self.workdir / "podman.sock"
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket}"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not socket.exists():
                assert service.poll() is None, "podman system service exited"
                assert time.monotonic() < deadline, "podman system service made no socket"
                time.sleep(0.05)
            yield f"unix://{socket}"
        finally:
            service.terminate()
            try:
                service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()


def wait_for(probe: Any, what: str, timeout: float = 120) -> None:
    """Poll `probe()` until it is true; fail saying `what` was awaited. The limit only
    ends a hang: nothing is asserted about how long it took."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so after {timeout:g} s")
        time.sleep(0.2)


# -- the docs' container blocks -----------------------------------------------------------

CONTAINER_DOCUMENT = ROOT / "docs" / "containers.md"
README_SECTION = "## Containers"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def container_blocks() -> list[tuple[str, str, str]]:
    """(where, language, code) of the fenced blocks about the container image: all of
    docs/containers.md and README's Containers section. The container tier runs their
    Python; the toolkit tier's doc examples (an in-process server) leave them out."""
    found = []
    readme = (ROOT / "README.md").read_text()
    start = readme.index(f"\n{README_SECTION}\n")
    end = readme.find("\n## ", start + 1)
    for path, text, offset in (
        (ROOT / "README.md", readme[start : end if end >= 0 else None], start),
        (CONTAINER_DOCUMENT, CONTAINER_DOCUMENT.read_text(), 0),
    ):
        whole = path.read_text()
        for match in _FENCE.finditer(text):
            line = whole.count("\n", 0, offset + match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", match.group(1), match.group(2)))
    return found
