"""AddTags, ListTags, DeleteTags on the ARNs of images, AppImageConfigs, domains, user
profiles and spaces, and tags given at creation.

Tags hang off a resource's row, found through its ARN in the caller's own account and
region, so they go with the resource and a re-created one starts bare. Any ARN that does not
name an existing taggable resource is SageMaker's `ValidationException` `Resource does not
exist`, whoever else it may belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.arns import parse, partition
from sagemaker_images.catalog.common import Deps
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ValidationError
from sagemaker_images.records import (
    APP_IMAGE_CONFIG_TAGS,
    DOMAIN_TAGS,
    IMAGE_TAGS,
    SPACE_TAGS,
    USER_PROFILE_TAGS,
)
from sagemaker_images.store import Reads, Writes

MAX_TAGS_PER_RESOURCE = 50
LIST_TAGS_PAGE_SIZE = 50
RESERVED_PREFIX = "aws:"

TaggedResource = tuple[str, int]  # (resource type, row id)


def tag_pairs(tags: Sequence[dict[str, str]]) -> dict[str, str]:
    """A request's tags as key -> value (a repeated key keeps its last value), checked for
    the reserved `aws:` prefix."""
    pairs = {tag["Key"]: tag["Value"] for tag in tags}
    reserved = sorted(key for key in pairs if key.lower().startswith(RESERVED_PREFIX))
    if reserved:
        raise ValidationError(
            f"Tag key {reserved[0]} is not allowed: keys starting with 'aws:' are reserved"
            " for AWS use."
        )
    return pairs


async def attach(tx: Writes, resource: TaggedResource, pairs: dict[str, str]) -> None:
    """Add or overwrite tags (checked by `tag_pairs` before the transaction), keeping the
    resource within its tag limit."""
    if not pairs:
        return
    kind, resource_id = resource
    keys = await tx.tags.keys(kind, resource_id) | pairs.keys()
    if len(keys) > MAX_TAGS_PER_RESOURCE:
        raise ValidationError(
            f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; this request would"
            f" leave it with {len(keys)}."
        )
    await tx.tags.put(kind, resource_id, pairs.items())


def _resource_missing() -> ValidationError:
    return ValidationError("Resource does not exist")


async def find_resource(reads: Reads, ctx: RequestContext, arn: str) -> TaggedResource:
    parsed = parse(arn)
    if (
        parsed is None
        or parsed.partition != partition(ctx.region)
        or parsed.service != "sagemaker"
        or parsed.region != ctx.region
        or parsed.account != ctx.account
        or not parsed.resource_id
    ):
        raise _resource_missing()
    kind = parsed.resource_type
    # `name`, or `domainId/name` for what lives in a domain.
    first, _, second = parsed.resource_id.partition("/")
    found: Any = None
    if kind in _NAMED and not second:
        found = await getattr(reads, _NAMED[kind][1]).find(ctx.account, ctx.region, first.lower())
    elif kind == "domain" and not second:
        found = await reads.domains.find(ctx.account, ctx.region, first)
    elif kind in _IN_DOMAIN and second and "/" not in second:
        rows = getattr(reads, _IN_DOMAIN[kind][1])
        found = await rows.find(ctx.account, ctx.region, first, second.lower())
    if found is None:
        raise _resource_missing()
    return _TAG_KIND[kind], found.id


# The taggable resources, by the resource type of their ARNs: (tag kind, reads attribute).
_NAMED = {
    "image": (IMAGE_TAGS, "images"),
    "app-image-config": (APP_IMAGE_CONFIG_TAGS, "app_image_configs"),
}
_IN_DOMAIN = {
    "user-profile": (USER_PROFILE_TAGS, "user_profiles"),
    "space": (SPACE_TAGS, "spaces"),
}
_TAG_KIND = {
    **{kind: tag for kind, (tag, _) in (_NAMED | _IN_DOMAIN).items()},
    "domain": DOMAIN_TAGS,
}


class Tags:
    def __init__(self, deps: Deps) -> None:
        self._store = deps.store

    async def add_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        pairs = tag_pairs(request["Tags"])
        async with self._store.transaction() as tx:
            resource = await find_resource(tx, ctx, request["ResourceArn"])
            await attach(tx, resource, pairs)
        return {"Tags": request["Tags"]}

    async def list_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        limit = request.get("MaxResults", LIST_TAGS_PAGE_SIZE)
        digest, after = pages.position("ListTags", ctx, request, (str,))
        reads = self._store.reader
        kind, resource_id = await find_resource(reads, ctx, request["ResourceArn"])
        rows = await reads.tags.page(kind, resource_id, after[0] if after else None, limit + 1)
        return {
            "Tags": [{"Key": key, "Value": value} for key, value in rows[:limit]],
            "NextToken": pages.next_token(digest, rows, limit, lambda row: row[:1]),
        }

    async def delete_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        async with self._store.transaction() as tx:
            kind, resource_id = await find_resource(tx, ctx, request["ResourceArn"])
            await tx.tags.delete(kind, resource_id, request["TagKeys"])
        return {}
