"""The credentials file: which access keys exist, their secrets, and the account of each.

```toml
[[keys]]
access_key_id = "AKIAEXAMPLE000000001"
secret_access_key = "..."
account_id = "111111111111"
session_token = "..."   # optional: requests with this key must then carry it
```

Reloadable while serving (SIGHUP): a file that fails to load leaves the keys in force
untouched. No message here ever contains a secret or a session token.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ACCOUNT_ID = re.compile(r"[0-9]{12}")
# It travels inside `Credential=<id>/<date>/...`, so it cannot hold '/', ',', '=' or spaces.
ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
REQUIRED = ("access_key_id", "secret_access_key", "account_id")
OPTIONAL = ("session_token",)


class CredentialsError(Exception):
    """The file cannot be used; the message says where, never what a secret is."""


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    account_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def load_keys(path: str | Path) -> dict[str, AccessKey]:
    """Every key of the file by access key id; raises CredentialsError if any is unusable."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise CredentialsError(f"cannot read credentials file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise CredentialsError(f"credentials file {path} is not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"keys"})
    if unknown:
        raise CredentialsError(f"credentials file {path}: unknown top-level entries {unknown}")
    entries = document.get("keys", [])
    if not isinstance(entries, list):
        raise CredentialsError(f"credentials file {path}: 'keys' must be an array of tables")
    keys: dict[str, AccessKey] = {}
    for number, entry in enumerate(entries, start=1):
        key = _parse_entry(entry, f"credentials file {path}, key {number}")
        if key.access_key_id in keys:
            raise CredentialsError(
                f"credentials file {path}: access_key_id {key.access_key_id} is listed twice"
            )
        keys[key.access_key_id] = key
    return keys


def _parse_entry(entry: Any, where: str) -> AccessKey:
    if not isinstance(entry, Mapping):
        raise CredentialsError(f"{where}: must be a table ([[keys]])")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise CredentialsError(f"{where}: unknown fields {unknown}")
    for name in (*REQUIRED, *OPTIONAL):
        if name in entry and (not isinstance(entry[name], str) or not entry[name]):
            raise CredentialsError(f"{where}: {name} must be a non-empty string")
    missing = [name for name in REQUIRED if name not in entry]
    if missing:
        raise CredentialsError(f"{where}: missing {', '.join(missing)}")
    if not ACCESS_KEY_ID.fullmatch(entry["access_key_id"]):
        raise CredentialsError(
            f"{where}: access_key_id must be 1-128 letters, digits, '_', '-' or '.'"
        )
    if not ACCOUNT_ID.fullmatch(entry["account_id"]):
        raise CredentialsError(f"{where}: account_id must be 12 digits")
    return AccessKey(
        access_key_id=entry["access_key_id"],
        account_id=entry["account_id"],
        secret_access_key=entry["secret_access_key"],
        session_token=entry.get("session_token"),
    )


class KeyRing:
    """The keys in force, swapped whole on reload so a request never sees half a file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._keys = load_keys(self.path)
        self._log_loaded("loaded")

    def get(self, access_key_id: str) -> AccessKey | None:
        return self._keys.get(access_key_id)

    def __len__(self) -> int:
        return len(self._keys)

    def reload(self) -> bool:
        """Read the file again; on any error keep the current keys and log why."""
        try:
            keys = load_keys(self.path)
        except CredentialsError as error:
            log.error("credentials not reloaded, keeping %d keys in force: %s", len(self), error)
            return False
        self._keys = keys
        self._log_loaded("reloaded")
        return True

    def _log_loaded(self, verb: str) -> None:
        accounts = {key.account_id for key in self._keys.values()}
        log.info(
            "%s %d access keys for %d accounts from %s", verb, len(self), len(accounts), self.path
        )
        if not self._keys:
            log.warning("credentials file %s lists no keys: every request is refused", self.path)
