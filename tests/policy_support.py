"""Credentials files with IAM principals and policies, for the policy tests of every tier.

The keys and policies below are the scenario the issue describes: an admin (the account's
root user), a read-only key, a CI key limited to its team's images and their aliases, a
data scientist whose apps may use only approved images, and a key with an explicit Deny
and a permissions boundary.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "111111111111"
SECRET = "policy-secret"
REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[1]


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(
    actions: str | list[str], resources: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def deny(
    actions: str | list[str], resources: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources, **extra}


def arn(resource: str, region: str = REGION) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:{resource}"


def user(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def denial(who: str, action: str, resource: str, why: str = "identity") -> str:
    """AWS's message for a refused call: `why` is identity, explicit or boundary."""
    head = f"User: {user(who)} is not authorized to perform: sagemaker:{action} on resource: {resource}"
    return (
        head
        + {
            "identity": f" because no identity-based policy allows the sagemaker:{action} action",
            "boundary": f" because no permissions boundary allows the sagemaker:{action} action",
            "explicit": " with an explicit deny in an identity-based policy",
        }[why]
    )


@dataclass(frozen=True)
class PolicyKey:
    access_key_id: str
    name: str | None  # the IAM user's name; None: the account's root user
    policies: list[str] = field(default_factory=list)
    inline_policy: str | None = None
    permissions_boundary: str | None = None

    def toml(self) -> str:
        lines = [
            "[[keys]]",
            f'access_key_id = "{self.access_key_id}"',
            f'secret_access_key = "{SECRET}"',
            f'account_id = "{ACCOUNT}"',
        ]
        if self.name is not None:
            lines.append(f'principal = "{user(self.name)}"')
            lines.append(f"policies = {json.dumps(self.policies)}")
        if self.inline_policy is not None:
            lines.append(f"inline_policy = '''{self.inline_policy}'''")
        if self.permissions_boundary is not None:
            lines.append(f'permissions_boundary = "{self.permissions_boundary}"')
        return "\n".join(lines) + "\n"


def write_policy_credentials(path: Path, keys: list[PolicyKey], policies: dict[str, str]) -> Path:
    text = "".join(key.toml() + "\n" for key in keys)
    for name, text_of in policies.items():
        text += f"[policies.{name}]\ndocument = '''{text_of}'''\n\n"
    path.write_text(text)
    return path


# The scenario's policies.
READ_ONLY = document(allow(["sagemaker:Describe*", "sagemaker:List*"], Sid="ReadEverything"))
TEAM_A_CI = document(
    allow(
        ["sagemaker:CreateImageVersion", "sagemaker:DescribeImage", "sagemaker:ListImageVersions"],
        arn("image/team-a-*"),
        Sid="TeamAImages",
    ),
    allow(
        ["sagemaker:DescribeImageVersion", "sagemaker:UpdateImageVersion", "sagemaker:ListAliases"],
        arn("image-version/team-a-*/*"),
        Sid="TeamAAliases",
    ),
)
APPROVED_APPS = document(
    allow(["sagemaker:Describe*", "sagemaker:List*"], Sid="Look"),
    allow(
        "sagemaker:CreateApp",
        arn("app/*"),
        Sid="ApprovedImagesOnly",
        Condition={"ForAllValues:StringLike": {"sagemaker:ImageArns": [arn("image/approved-*")]}},
    ),
)
NO_DELETES = document(
    allow("sagemaker:*", Sid="Everything"),
    deny("sagemaker:DeleteImage", Sid="NoImageDeletes"),
)
BOUNDARY = document(
    allow(["sagemaker:Describe*", "sagemaker:List*", "sagemaker:Create*", "sagemaker:Delete*"])
)
POLICIES = {
    "read-only": READ_ONLY,
    "team-a-ci": TEAM_A_CI,
    "approved-apps": APPROVED_APPS,
    "no-deletes": NO_DELETES,
    "boundary": BOUNDARY,
}
ADMIN = PolicyKey("AKIAADMIN00000000001", None)
READER = PolicyKey("AKIAREADER0000000001", "reader", ["read-only"])
CI = PolicyKey("AKIACI00000000000001", "ci", ["team-a-ci"])
SCIENTIST = PolicyKey("AKIADS00000000000001", "scientist", ["approved-apps"])
GUARDED = PolicyKey(
    "AKIAGUARDED000000001", "guarded", ["no-deletes"], permissions_boundary="boundary"
)
NOBODY = PolicyKey("AKIANOBODY0000000001", "nobody")
SCENARIO = [ADMIN, READER, CI, SCIENTIST, GUARDED, NOBODY]


def documented_policies() -> list[dict[str, Any]]:
    """The JSON policy documents docs/policies.md shows, in order."""
    text = (ROOT / "docs" / "policies.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    return [json.loads(block) for block in blocks if '"Statement"' in block]
