"""The shape of an ARN: its partition, and reading one. What follows the account, each
kind's own part, its kind declares (`kinds.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

SERVICE = "sagemaker"


@cache
def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso-"):
        return "aws-iso"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    return "aws"


def arn_text(region: str, account: str, resource: str) -> str:
    """`arn:<partition>:sagemaker:<region>:<account>:<resource>`."""
    return f"arn:{partition(region)}:{SERVICE}:{region}:{account}:{resource}"


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource_type: str
    resource_id: str


def parse(arn: str) -> Arn | None:
    """Split `arn:partition:service:region:account:type/id`; None if it is not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    resource_type, _, resource_id = parts[5].partition("/")
    return Arn(parts[1], parts[2], parts[3], parts[4], resource_type, resource_id)
