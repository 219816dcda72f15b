"""The credentials file: which access keys exist, their secrets, and the account of each.

```toml
[[keys]]
access_key_id = "AKIAEXAMPLE000000001"
secret_access_key = "..."
account_id = "111111111111"
session_token = "..."   # optional: requests with this key must then carry it
principal = "arn:aws:iam::111111111111:user/ci"   # optional: then only its policies allow
policies = ["team-a-ci"]                           # names of [policies.NAME] below
inline_policy = '{"Version": "2012-10-17", "Statement": [...]}'
permissions_boundary = "boundary"                  # a policy name

[policies.team-a-ci]
document = '{...}'   # or: file = "team-a.json" (beside this file)
```

A key without a principal is its account's root user: it may do everything in its account.
Reloadable while serving (SIGHUP): a file that fails to load leaves the keys in force
untouched. No message here ever contains a secret or a session token.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sagemaker_images.auth.policies import Policy, PolicyError, PolicySet, Principal, compile_policy

log = logging.getLogger(__name__)

ACCOUNT_ID = re.compile(r"[0-9]{12}")
# It travels inside `Credential=<id>/<date>/...`, so it cannot hold '/', ',', '=' or spaces.
ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
REQUIRED = ("access_key_id", "secret_access_key", "account_id")
OPTIONAL = ("session_token", "principal", "inline_policy", "permissions_boundary")
_PRINCIPALS_ONLY = ("policies", "inline_policy", "permissions_boundary")
PRINCIPAL = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:(?:iam::([0-9]{12}):(?:user|role)/[\w+=,.@/-]+"
    r"|sts::([0-9]{12}):assumed-role/[\w+=,.@-]+/[\w+=,.@-]+)"
)


class CredentialsError(Exception):
    """The file cannot be used; the message says where, never what a secret is."""


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    account_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    # An IAM principal's policies; None: the account's root user, who may do anything.
    principal: Principal | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    keys: dict[str, AccessKey]
    warnings: tuple[str, ...]


def load_keys(path: str | Path) -> dict[str, AccessKey]:
    """Every key of the file by access key id; raises CredentialsError if any is unusable."""
    return load_credentials(path).keys


def load_credentials(path: str | Path) -> Credentials:
    """The file's keys and its policies' warnings; raises CredentialsError if unusable."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise CredentialsError(f"cannot read credentials file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise CredentialsError(f"credentials file {path} is not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"keys", "policies"})
    if unknown:
        raise CredentialsError(f"credentials file {path}: unknown top-level entries {unknown}")
    entries = document.get("keys", [])
    if not isinstance(entries, list):
        raise CredentialsError(f"credentials file {path}: 'keys' must be an array of tables")
    policies = _policies(document.get("policies", {}), Path(path))
    warnings = [warning for policy in policies.values() for warning in policy.warnings]
    keys: dict[str, AccessKey] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"credentials file {path}, key {number}"
        key = _parse_entry(entry, where)
        if key.access_key_id in keys:
            raise CredentialsError(
                f"credentials file {path}: access_key_id {key.access_key_id} is listed twice"
            )
        principal, inline_warnings = _principal(entry, key, policies, where)
        warnings += inline_warnings
        keys[key.access_key_id] = replace(key, principal=principal)
    return Credentials(keys, tuple(warnings))


def _policies(table: Any, path: Path) -> dict[str, Policy]:
    """`[policies.NAME]`: each with `document` (JSON text) or `file` (beside the file)."""
    if not isinstance(table, Mapping):
        raise CredentialsError(f"credentials file {path}: 'policies' must be a table")
    policies: dict[str, Policy] = {}
    for name, entry in table.items():
        where = f"credentials file {path}, policy {name}"
        if not isinstance(entry, Mapping) or set(entry) - {"document", "file"}:
            raise CredentialsError(f"{where}: must be a table with document or file")
        if ("document" in entry) == ("file" in entry):
            raise CredentialsError(f"{where}: needs exactly one of document and file")
        text = entry.get("document")
        if "file" in entry:
            source = path.parent / str(entry["file"])
            try:
                text = source.read_text()
            except OSError as error:
                raise CredentialsError(f"{where}: cannot read {source}: {error.strerror}") from None
        if not isinstance(text, str):
            raise CredentialsError(f"{where}: document must be a string of JSON")
        try:
            policies[name] = compile_policy(name, text)
        except PolicyError as error:
            raise CredentialsError(f"credentials file {path}, {error}") from None
    return policies


def _principal(
    entry: Mapping[str, Any], key: AccessKey, policies: dict[str, Policy], where: str
) -> tuple[Principal | None, list[str]]:
    """The key's IAM principal and its compiled policies (None: the root user)."""
    arn = entry.get("principal")
    attached = entry.get("policies", [])
    if arn is None:
        given = [name for name in _PRINCIPALS_ONLY if name in entry]
        if given:
            raise CredentialsError(f"{where}: {', '.join(given)} need a principal")
        return None, []
    shape = PRINCIPAL.fullmatch(arn)
    if shape is None:
        raise CredentialsError(
            f"{where}: principal must be an IAM user or role ARN"
            " (arn:aws:iam::ACCOUNT:user/NAME, role/NAME or sts assumed-role)"
        )
    if (shape.group(1) or shape.group(2)) != key.account_id:
        raise CredentialsError(f"{where}: principal {arn} is not in account {key.account_id}")
    if not isinstance(attached, list) or not all(isinstance(n, str) for n in attached):
        raise CredentialsError(f"{where}: policies must be a list of policy names")
    chosen = [_defined(policies, name, "policy", where) for name in attached]
    warnings: list[str] = []
    if "inline_policy" in entry:
        try:
            inline = compile_policy(f"inline_policy of {arn}", entry["inline_policy"])
        except PolicyError as error:
            raise CredentialsError(f"{where}: {error}") from None
        chosen.append(inline)
        warnings += inline.warnings
    boundary = None
    if "permissions_boundary" in entry:
        name = entry["permissions_boundary"]
        boundary = PolicySet.of([_defined(policies, name, "permissions_boundary", where)])
    return Principal(arn, PolicySet.of(chosen), boundary), warnings


def _defined(policies: dict[str, Policy], name: str, what: str, where: str) -> Policy:
    if name not in policies:
        raise CredentialsError(f"{where}: {what} {name} is not defined ([policies.{name}])")
    return policies[name]


def _parse_entry(entry: Any, where: str) -> AccessKey:
    if not isinstance(entry, Mapping):
        raise CredentialsError(f"{where}: must be a table ([[keys]])")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL) - {"policies"})
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
        loaded = load_credentials(self.path)
        self._keys = loaded.keys
        self._log_loaded("loaded", loaded.warnings)

    def get(self, access_key_id: str) -> AccessKey | None:
        return self._keys.get(access_key_id)

    def __len__(self) -> int:
        return len(self._keys)

    def reload(self) -> bool:
        """Read the file again; on any error keep the current keys and log why."""
        try:
            loaded = load_credentials(self.path)
        except CredentialsError as error:
            log.error(
                "credentials not reloaded, keeping %d keys and their policies in force: %s",
                len(self),
                error,
            )
            return False
        self._keys = loaded.keys
        self._log_loaded("reloaded", loaded.warnings)
        return True

    def _log_loaded(self, verb: str, warnings: tuple[str, ...] = ()) -> None:
        for warning in warnings:
            log.warning("credentials file %s: %s", self.path, warning)
        accounts = {key.account_id for key in self._keys.values()}
        log.info(
            "%s %d access keys for %d accounts from %s", verb, len(self), len(accounts), self.path
        )
        if not self._keys:
            log.warning("credentials file %s lists no keys: every request is refused", self.path)
