"""Identifiers the catalog makes up, shaped as AWS's are."""

from __future__ import annotations

import secrets
import string

_ID_CHARACTERS = string.ascii_lowercase + string.digits


def random_text(length: int, alphabet: str = _ID_CHARACTERS) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_domain_id() -> str:
    """`d-` and 12 lower-case letters and digits, as AWS's are."""
    return "d-" + random_text(12)


def new_hex_id(prefix: str, length: int) -> str:
    return prefix + random_text(length, "0123456789abcdef")
