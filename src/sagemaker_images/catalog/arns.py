"""Building and reading ARNs: the one place that knows their shape.

Names inside image and image-version ARNs are lower-cased (the model admits only lower
case in image-version ARNs); the caller's spelling survives in `ImageName`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

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


def _arn(region: str, account: str, resource: str) -> str:
    return f"arn:{partition(region)}:{SERVICE}:{region}:{account}:{resource}"


# The ARNs of the images in use, kept: formatting them is a tenth of a Describe's own work.
@lru_cache(maxsize=4096)
def image_arn(region: str, account: str, name: str) -> str:
    return image_arn_prefix(region, account) + name.lower()


@lru_cache(maxsize=1024)
def image_arn_prefix(region: str, account: str) -> str:
    """Everything of an image ARN but the (lower-cased) name."""
    return _arn(region, account, "image/")


def image_version_arn(region: str, account: str, name: str, version: int) -> str:
    return image_version_arn_prefix(region, account, name) + str(version)


@lru_cache(maxsize=4096)
def image_version_arn_prefix(region: str, account: str, name: str) -> str:
    """Everything of an image-version ARN but the number, for building many at once."""
    return _arn(region, account, f"image-version/{name.lower()}/")


def app_image_config_arn(region: str, account: str, name: str) -> str:
    return app_image_config_arn_prefix(region, account) + name.lower()


@lru_cache(maxsize=1024)
def app_image_config_arn_prefix(region: str, account: str) -> str:
    """Everything of an AppImageConfig ARN but the (lower-cased) name."""
    return _arn(region, account, "app-image-config/")


def domain_arn(region: str, account: str, domain_id: str) -> str:
    return domain_arn_prefix(region, account) + domain_id


@lru_cache(maxsize=1024)
def domain_arn_prefix(region: str, account: str) -> str:
    return _arn(region, account, "domain/")


def user_profile_arn(region: str, account: str, domain_id: str, name: str) -> str:
    return in_domain_arn_prefix("user-profile", region, account, domain_id) + name.lower()


def space_arn(region: str, account: str, domain_id: str, name: str) -> str:
    return in_domain_arn_prefix("space", region, account, domain_id) + name.lower()


@lru_cache(maxsize=4096)
def in_domain_arn_prefix(kind: str, region: str, account: str, domain_id: str) -> str:
    """Everything of a user profile's or space's ARN but its (lower-cased) name."""
    return _arn(region, account, f"{kind}/{domain_id}/")


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
