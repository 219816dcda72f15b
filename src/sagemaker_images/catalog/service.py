"""The catalog's operations by their SageMaker names: what the dispatcher serves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sagemaker_images.catalog.app_image_configs import AppImageConfigs
from sagemaker_images.catalog.common import Deps
from sagemaker_images.catalog.domains import Domains
from sagemaker_images.catalog.images import Images
from sagemaker_images.catalog.spaces import Spaces
from sagemaker_images.catalog.tags import Tags
from sagemaker_images.catalog.user_profiles import UserProfiles
from sagemaker_images.catalog.versions import Versions
from sagemaker_images.context import RequestContext

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]

# The SageMaker operations served: scripts/ship_model.py ships their part of the model.
OPERATIONS = (
    "CreateImage",
    "DescribeImage",
    "UpdateImage",
    "DeleteImage",
    "ListImages",
    "CreateImageVersion",
    "DescribeImageVersion",
    "UpdateImageVersion",
    "DeleteImageVersion",
    "ListImageVersions",
    "ListAliases",
    "CreateAppImageConfig",
    "DescribeAppImageConfig",
    "UpdateAppImageConfig",
    "DeleteAppImageConfig",
    "ListAppImageConfigs",
    "AddTags",
    "ListTags",
    "DeleteTags",
    "CreateDomain",
    "DescribeDomain",
    "UpdateDomain",
    "DeleteDomain",
    "ListDomains",
    "CreateUserProfile",
    "DescribeUserProfile",
    "UpdateUserProfile",
    "DeleteUserProfile",
    "ListUserProfiles",
    "CreateSpace",
    "DescribeSpace",
    "UpdateSpace",
    "DeleteSpace",
    "ListSpaces",
)


def handlers(deps: Deps) -> dict[str, Handler]:
    images = Images(deps)
    versions = Versions(deps)
    configs = AppImageConfigs(deps)
    tags = Tags(deps)
    domains = Domains(deps)
    profiles = UserProfiles(deps)
    spaces = Spaces(deps)
    served: dict[str, Handler] = {
        "CreateImage": images.create_image,
        "DescribeImage": images.describe_image,
        "UpdateImage": images.update_image,
        "DeleteImage": images.delete_image,
        "ListImages": images.list_images,
        "CreateImageVersion": versions.create_image_version,
        "DescribeImageVersion": versions.describe_image_version,
        "UpdateImageVersion": versions.update_image_version,
        "DeleteImageVersion": versions.delete_image_version,
        "ListImageVersions": versions.list_image_versions,
        "ListAliases": versions.list_aliases,
        "CreateAppImageConfig": configs.create_app_image_config,
        "DescribeAppImageConfig": configs.describe_app_image_config,
        "UpdateAppImageConfig": configs.update_app_image_config,
        "DeleteAppImageConfig": configs.delete_app_image_config,
        "ListAppImageConfigs": configs.list_app_image_configs,
        "AddTags": tags.add_tags,
        "ListTags": tags.list_tags,
        "DeleteTags": tags.delete_tags,
        "CreateDomain": domains.create_domain,
        "DescribeDomain": domains.describe_domain,
        "UpdateDomain": domains.update_domain,
        "DeleteDomain": domains.delete_domain,
        "ListDomains": domains.list_domains,
        "CreateUserProfile": profiles.create_user_profile,
        "DescribeUserProfile": profiles.describe_user_profile,
        "UpdateUserProfile": profiles.update_user_profile,
        "DeleteUserProfile": profiles.delete_user_profile,
        "ListUserProfiles": profiles.list_user_profiles,
        "CreateSpace": spaces.create_space,
        "DescribeSpace": spaces.describe_space,
        "UpdateSpace": spaces.update_space,
        "DeleteSpace": spaces.delete_space,
        "ListSpaces": spaces.list_spaces,
    }
    assert tuple(served) == OPERATIONS
    return served
