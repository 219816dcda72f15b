"""One Settings object for the whole server: CLI flags > environment > these defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "SAGEMAKER_IMAGES_"


def default_data_dir() -> Path:
    """The per-user data directory (XDG on Linux, the platform's usual place elsewhere)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "sagemaker-images"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "sagemaker-images"
    return Path.home() / ".local" / "share" / "sagemaker-images"


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'catalog.db'}"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = ""
    account_id: str = "123456789012"
    default_region: str = "us-east-1"
    # How long CREATING / UPDATING / DELETING last before the worker moves them on.
    transition_seconds: float = 1.0
    max_images: int = 1000
    max_versions_per_image: int = 1000
    max_body_bytes: int = 1024 * 1024
    # A claimed job whose lease lapses (its server died) is taken over by another worker.
    job_lease_seconds: float = 30.0
    sqlite_synchronous: str = "normal"
    # Image versions: pin BaseImage to its digest (`required`) or take it as written (`off`).
    resolve: str = "off"
    registries_file: str = ""
    # How long an unreachable registry is retried before a version fails.
    resolve_retry_seconds: float = 300.0
    # PostgreSQL: connections per server, and how long a call waits for one before it is
    # answered ServiceUnavailable (also what a call waits for a database that is down).
    database_pool_size: int = 10
    database_pool_timeout: float = 5.0
    log_level: str = "info"
    # Authentication: a TOML file of access keys; auth "" means sigv4 when a file is given.
    credentials_file: str = ""
    auth: str = ""

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    def auth_mode(self) -> str:
        """ "sigv4" (verify every signature) or "off" (any key; the configured account)."""
        if self.auth:
            return self.auth
        return "sigv4" if self.credentials_file else "off"
