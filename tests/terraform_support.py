"""Running the real terraform binary and hashicorp/aws provider against a test server.

There is no internet here: the provider comes from a local filesystem mirror, named in a
CLI config file that `TF_CLI_CONFIG_FILE` points terraform at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROVIDER_VERSION = "5.100.0"
MIRROR_CANDIDATES = (
    os.environ.get("SAGEMAKER_IMAGES_TF_MIRROR", ""),
    "/opt/tf-plugins",
    str(Path.home() / ".terraform.d" / "plugins"),
    "/usr/share/terraform/plugins",
)
MODULES = Path(__file__).parent / "e2e" / "terraform"


def provider_mirror() -> Path | None:
    """The filesystem mirror that holds hashicorp/aws at the pinned version, if any."""
    for candidate in filter(None, MIRROR_CANDIDATES):
        provider = Path(candidate) / "registry.terraform.io/hashicorp/aws" / PROVIDER_VERSION
        if provider.is_dir() and any(provider.iterdir()):
            return Path(candidate)
    return None


def missing_reason() -> str | None:
    """Why terraform tests cannot run here, or None when they can."""
    if shutil.which("terraform") is None:
        return "the terraform binary is not installed"
    if provider_mirror() is None:
        return f"no filesystem mirror holds hashicorp/aws {PROVIDER_VERSION}"
    return None


def provider_block(endpoint: str, region: str, access_key: str, secret_key: str) -> str:
    return f"""
provider "aws" {{
  region                      = "{region}"
  access_key                  = "{access_key}"
  secret_key                  = "{secret_key}"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {{
    sagemaker = "{endpoint}"
  }}
}}
"""


class Terraform:
    """One working directory holding a copy of a module under tests/e2e/terraform/."""

    def __init__(
        self,
        workdir: Path,
        module: str,
        *,
        endpoint: str,
        region: str = "us-east-1",
        access_key: str = "AKIDEXAMPLETERRAFORM",
        secret_key: str = "terraform-secret-key",
    ) -> None:
        reason = missing_reason()
        if reason is not None:
            raise RuntimeError(f"terraform cannot run here: {reason} (see scripts/test_tools.py)")
        mirror = provider_mirror()
        assert mirror is not None
        self.workdir = workdir
        shutil.copytree(MODULES / module, workdir, dirs_exist_ok=True)
        (workdir / "provider.tf").write_text(
            provider_block(endpoint, region, access_key, secret_key)
        )
        cli_config = workdir / "cli.tfrc"
        cli_config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
        )
        self.env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # The provider's own log (its HTTP exchanges and retries), read on a failure.
            "TF_LOG": os.environ.get("TF_LOG", "DEBUG"),
            "TF_LOG_PATH": str(workdir / "terraform.log"),
        }
        self.env.pop("AWS_PROFILE", None)

    def run(
        self, *args: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n"
                f"--- the provider's retries and errors ---\n{self._troubles()}"
            )
        return result

    def _troubles(self) -> str:
        """The lines of the provider's log that tell of retries and failed requests."""
        log = self.workdir / "terraform.log"
        if not log.exists():
            return "(no log)"
        words = ("retry", "attempt", "error", "eof", "reset", "timeout")
        lines = [
            line[:400]
            for line in log.read_text(errors="replace").splitlines()
            if any(word in line.lower() for word in words) and "[TRACE]" not in line
        ]
        return "\n".join(lines[-80:])

    def write_variables(self, variables: dict[str, Any]) -> None:
        (self.workdir / "terraform.tfvars.json").write_text(json.dumps(variables))

    def init(self) -> None:
        self.run("init", "-input=false")

    def apply(self) -> None:
        self.run("apply", "-auto-approve", "-input=false")

    def plan(self) -> tuple[int, str]:
        """(exit code, output): 0 means no changes, 2 means changes are planned."""
        result = self.run("plan", "-detailed-exitcode", "-input=false", check=False)
        if result.returncode not in (0, 2):
            raise AssertionError(f"terraform plan failed:\n{result.stdout}\n{result.stderr}")
        return result.returncode, result.stdout

    def import_(self, address: str, resource_id: str) -> None:
        self.run("import", "-input=false", address, resource_id)

    def import_all(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Import resources, (address, id) each, with import blocks in one apply: what
        `terraform import` does for each (the provider's import, then a read), with one
        start of the provider for all of them rather than one each (8 s a start here)."""
        blocks = "".join(
            f"import {{\n  to = {address}\n  id = {json.dumps(resource_id)}\n}}\n"
            for address, resource_id in pairs
        )
        path = self.workdir / "imports.tf"
        path.write_text(blocks)
        try:
            result = self.run("apply", "-auto-approve", "-input=false")
        finally:
            path.unlink()
        expected = f"Resources: {len(pairs)} imported, 0 added, 0 changed, 0 destroyed."
        assert expected in result.stdout, result.stdout

    def state_rm(self, *addresses: str) -> None:
        self.run("state", "rm", *addresses)

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: value["value"] for name, value in raw.items()}

    def destroy(self) -> None:
        self.run("destroy", "-auto-approve", "-input=false")
