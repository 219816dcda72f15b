"""The registries file: where and how to call each registry host named in a BaseImage.

```toml
[registries."123456789012.dkr.ecr.us-east-1.amazonaws.com"]
endpoint = "http://127.0.0.1:5000"   # where to call it (a mirror, a local registry)
username = "ci"                       # optional, with password or password_env
password_env = "REGISTRY_PASSWORD"    # or password = "..."
ca_bundle = "/etc/ssl/registry.pem"   # optional, for https with a private CA
```

A host with no table is called at `https://<host>` (Docker Hub at its real API host).
Everything is checked when the file is loaded, so a mistake stops the server at start
rather than failing versions later.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sagemaker_images.registry.reference import DOCKER_HUB

_KEYS = {"endpoint", "username", "password", "password_env", "ca_bundle"}


class RegistriesFileError(ValueError):
    """The registries file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    endpoint: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None


@dataclass(frozen=True, slots=True)
class Registries:
    """Per-host settings; a host without an entry is called over https at its own name."""

    hosts: dict[str, RegistryConfig] = field(default_factory=dict)

    def for_host(self, host: str) -> RegistryConfig:
        found = self.hosts.get(host)
        if found is not None:
            return found
        if host == DOCKER_HUB:
            return RegistryConfig(endpoint="https://registry-1.docker.io")
        return RegistryConfig(endpoint=f"https://{host}")

    def secrets(self) -> list[str]:
        return [c.password for c in self.hosts.values() if c.password]


def load_registries(path: str | Path | None) -> Registries:
    if not path:
        return Registries()
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except OSError as error:
        raise RegistriesFileError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise RegistriesFileError(f"{path}: not valid TOML: {error}") from None
    unknown = set(document) - {"registries"}
    if unknown:
        raise RegistriesFileError(f"{path}: unknown top-level keys {sorted(unknown)}")
    tables = document.get("registries", {})
    if not isinstance(tables, dict):
        raise RegistriesFileError(f"{path}: 'registries' must be a table of hosts")
    hosts = {}
    for host, table in tables.items():
        hosts[host] = _registry(path, host, table)
    return Registries(hosts)


def _registry(path: Path, host: str, table: object) -> RegistryConfig:
    where = f"{path}: [registries.{host!r}]"
    if not isinstance(table, dict):
        raise RegistriesFileError(f"{where} must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise RegistriesFileError(f"{where}: unknown keys {sorted(unknown)}")
    for key, value in table.items():
        if not isinstance(value, str) or not value:
            raise RegistriesFileError(f"{where}: {key} must be a non-empty string")
    endpoint = table.get("endpoint", f"https://{host}").rstrip("/")
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise RegistriesFileError(f"{where}: endpoint must be an http:// or https:// URL")
    if "password" in table and "password_env" in table:
        raise RegistriesFileError(f"{where}: give password or password_env, not both")
    password = table.get("password")
    if "password_env" in table:
        password = os.environ.get(table["password_env"])
        if password is None:
            raise RegistriesFileError(
                f"{where}: environment variable {table['password_env']} is not set"
            )
    username = table.get("username")
    if (username is None) != (password is None):
        raise RegistriesFileError(f"{where}: username and a password go together")
    ca_bundle = table.get("ca_bundle")
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise RegistriesFileError(f"{where}: ca_bundle {ca_bundle} is not a file")
    return RegistryConfig(endpoint, username, password, ca_bundle)
