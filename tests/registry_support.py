"""A real CNCF distribution registry (Debian's `docker-registry`) for tests, and image pushes
over its HTTP API: a config blob, a layer blob and an OCI manifest, a few hundred bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
from support import free_port

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class RegistryProcess:
    """`docker-registry serve` on 127.0.0.1 with filesystem storage under `workdir`."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        users: dict[str, str] | None = None,
        extra_config: str = "",
    ) -> None:
        if not Path(REGISTRY_BINARY).exists():
            raise RuntimeError(
                f"{REGISTRY_BINARY} is missing: install Debian's docker-registry package"
                " (.ci/run does)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port = port or free_port()
        self.users = dict(users or {})
        self.process: subprocess.Popen[bytes] | None = None
        auth = ""
        if self.users:
            htpasswd = workdir / "htpasswd"
            htpasswd.write_text(
                "".join(
                    f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode()}\n"
                    for user, password in self.users.items()
                )
            )
            auth = f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n"
        self.config = workdir / "config.yml"
        self.config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n  secret: test-secret\n" + auth + extra_config
        )
        self.log_path = workdir / "registry.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> RegistryProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"registry exited early:\n{self.log()}")
            try:
                status, _, _ = self._request("GET", "/v2/", authorized=False)
                if status in {200, 401}:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"registry did not come up:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def push(self, repository: str, tag: str, content: str = "") -> str:
        """Push a tiny image under `repository:tag`; returns its manifest digest.

        Different `content` gives a different layer, hence a different digest.
        """
        config = json.dumps({"architecture": "amd64", "os": "linux", "note": content}).encode()
        layer = f"layer of {repository}:{tag} {content}".encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": self._blob(repository, config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": self._blob(repository, layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        status, headers, body = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            manifest,
            {"Content-Type": OCI_MANIFEST},
        )
        assert status == 201, (status, body)
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        assert headers["docker-content-digest"] == digest
        return digest

    def _blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, headers, body = self._request("POST", f"/v2/{repository}/blobs/uploads/")
        assert status == 202, (status, body)
        location = headers["location"]
        separator = "&" if "?" in location else "?"
        status, _, body = self._request(
            "PUT",
            f"{location}{separator}digest={digest}",
            data,
            {"Content-Type": "application/octet-stream"},
        )
        assert status == 201, (status, body)
        return digest

    def _request(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        authorized: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        url = path if path.startswith("http") else self.url + path
        sent = dict(headers or {})
        if authorized and self.users:
            user, password = next(iter(self.users.items()))
            sent["Authorization"] = "Basic " + base64.b64encode(
                f"{user}:{password}".encode()
            ).decode("ascii")
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read()


def _lower(headers: object) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}  # type: ignore[attr-defined]
