"""What `make test` needs from the system, installed with apt when it can be.

    python3 scripts/test_tools.py

Silent when everything is there. Otherwise, as root or with sudo that asks no password, it
installs the missing Debian packages; if it cannot, it stops at once with one line naming
the apt command to run. Terraform is no Debian package: it is only reported. Standard
library only, so it runs before the virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from postgresql_support import server_programs  # noqa: E402
from terraform_support import PROVIDER_VERSION, missing_reason  # noqa: E402


def _command(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


# Each package and how to tell it is there: by what the tests run, not by dpkg, so that a
# PostgreSQL or a browser installed another way counts too.
PACKAGES: dict[str, Callable[[], bool]] = {
    "postgresql": lambda: server_programs() is not None,  # private clusters of the runs
    "docker-registry": _command("docker-registry"),  # the registry of the digest tests
    "skopeo": _command("skopeo"),  # copies images into it
    "wrk": _command("wrk"),  # the load benchmark
    "chromium": _command("chromium"),  # the web catalog's browser tests, headless
    # The container tier: builds the Containerfile, runs the image and compose.yaml, and
    # serves the Docker API to Testcontainers; mmdebstrap makes the stand-in base images.
    "podman": _command("podman"),
    "buildah": _command("buildah"),
    "runc": _command("runc"),
    "mmdebstrap": _command("mmdebstrap"),
}


def missing() -> list[str]:
    return [package for package, present in PACKAGES.items() if not present()]


def apt_prefix() -> list[str] | None:
    """How to run apt-get here: directly as root, through sudo if it asks no password,
    or not at all (None)."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    quiet = subprocess.run(["sudo", "-n", "true"], capture_output=True)
    return ["sudo"] if quiet.returncode == 0 else None


def install(packages: list[str], prefix: list[str]) -> None:
    """apt-get update and install; a failure is told by what is still missing after."""
    print(f"installing {' '.join(packages)} with apt-get", file=sys.stderr)
    apt = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    for arguments in (
        ["update", "-qq"],
        ["install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        if subprocess.run([*apt, *arguments]).returncode != 0:
            return


def main() -> int:
    failed = False
    packages = missing()
    if packages:
        prefix = apt_prefix()
        if prefix is not None:
            install(packages, prefix)
            packages = missing()
        if packages:
            names = " ".join(packages)
            print(
                f"missing: {names}; install them with:"
                f" sudo apt-get install -y --no-install-recommends {names}",
                file=sys.stderr,
            )
            failed = True
    terraform = missing_reason()
    if terraform is not None:
        print(
            f"missing for the Terraform tests: {terraform}; install HashiCorp's terraform"
            f" and hashicorp/aws {PROVIDER_VERSION} in a filesystem mirror such as"
            " /opt/tf-plugins (or name one in SAGEMAKER_IMAGES_TF_MIRROR)",
            file=sys.stderr,
        )
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
