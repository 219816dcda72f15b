"""AddTags, ListTags, DeleteTags on the ARN of any kind of resource that takes tags
(`kinds.py`), and tags given at creation.

Tags hang off a resource's row, found through its ARN in the caller's own account and
region, so they go with the resource and a re-created one starts bare. Any ARN that does not
name an existing taggable resource is SageMaker's `ValidationException` `Resource does not
exist`, whoever else it may belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.common import Handlers
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ValidationError
from sagemaker_images.resources.arns import SERVICE, parse, partition
from sagemaker_images.resources.kinds import TAG_OPERATIONS, kind_of_arn_type
from sagemaker_images.store import Reads, Writes

MAX_TAGS_PER_RESOURCE = 50
LIST_TAGS_PAGE_SIZE = 50
RESERVED_PREFIX = "aws:"

TaggedResource = tuple[str, int]  # (tag kind: the ARN's resource type, row id)


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
    """The tagged resource an ARN names in the caller's account and region."""
    parsed = parse(arn)
    if (
        parsed is None
        or parsed.partition != partition(ctx.region)
        or parsed.service != SERVICE
        or parsed.region != ctx.region
        or parsed.account != ctx.account
    ):
        raise _resource_missing()
    kind = kind_of_arn_type(parsed.resource_type)
    path = kind.segments(parsed.resource_id) if kind is not None and kind.tagged else None
    found = None
    if kind is not None and path is not None:
        found = await reads.locate(kind, ctx.account, ctx.region, path)
    if found is None:
        raise _resource_missing()
    return found.kind.arn_type, found.row_id


class Tags(Handlers):
    operations = TAG_OPERATIONS

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
