"""CreateImage, DescribeImage, UpdateImage, DeleteImage, ListImages."""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Members
from sagemaker_images.catalog.arns import image_arn, image_arn_prefix
from sagemaker_images.catalog.common import (
    DEFAULT_PAGE_SIZE,
    Deps,
    limit_exceeded,
    require_image,
    time_filters,
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ValidationError
from sagemaker_images.records import IMAGE_TAGS, ImageRecord
from sagemaker_images.states import ImageStatus, JobKind, VersionStatus
from sagemaker_images.store import DuplicateKey

BUSY = frozenset({ImageStatus.CREATING, ImageStatus.UPDATING, ImageStatus.DELETING})
IMAGE = Members(ImageRecord, "ImageArn", "name_key")
SORT_KEYS = pages.named_sort_keys(ImageRecord, "CREATION_TIME", "LAST_MODIFIED_TIME", "IMAGE_NAME")


def refuse_if_busy(image: ImageRecord) -> None:
    if image.status in BUSY:
        raise ResourceInUse(
            f"Image {image.name} is currently {image.status}. Retry after the operation completes."
        )


class Images:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._store = deps.store

    async def create_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ImageName"]
        tags = tag_pairs(request.get("Tags", ()))
        now = self._deps.clock()
        limit = self._deps.settings.max_images
        record = ImageRecord(
            id=0,
            account=ctx.account,
            region=ctx.region,
            name_key=name.lower(),
            status=ImageStatus.CREATING,
            failure_reason=None,
            created_ms=now,
            modified_ms=now,
            last_version=0,
            version_count=0,
            **IMAGE.given(request),
        )
        async with self._store.transaction() as tx:
            await tx.images.lock_quota(ctx.account, ctx.region)
            if await tx.images.find(ctx.account, ctx.region, record.name_key) is not None:
                raise _name_taken(name)
            used = await tx.images.count(ctx.account, ctx.region)
            if used >= limit:
                raise limit_exceeded("Maximum number of images per Region", limit, used, "Images")
            try:
                image_id = await tx.images.insert(record)
            except DuplicateKey:
                raise _name_taken(name) from None
            await attach(tx, (IMAGE_TAGS, image_id), tags)
            await tx.jobs.add(JobKind.IMAGE_CREATE, image_id, None, self._deps.transition_due(now))
        return {"ImageArn": image_arn(ctx.region, ctx.account, name)}

    async def describe_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        image = await require_image(self._store.reader, ctx, request["ImageName"])
        return IMAGE.described(image, image_arn_prefix(ctx.region, ctx.account))

    async def update_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        deleted = set(request.get("DeleteProperties", ()))
        both = sorted(p for p in deleted if p in request)
        if both:
            raise ValidationError(
                f"Property {both[0]} cannot be both updated and deleted in one request."
            )
        changes = IMAGE.changes(request)
        changes.update({IMAGE.column_of(member): None for member in deleted})
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            refuse_if_busy(image)
            await tx.images.update(
                image.id,
                status=ImageStatus.UPDATING,
                failure_reason=None,
                modified_ms=now,
                **changes,
            )
            await tx.jobs.add(JobKind.IMAGE_UPDATE, image.id, None, self._deps.transition_due(now))
        return {"ImageArn": image_arn(ctx.region, ctx.account, image.name)}

    async def delete_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            refuse_if_busy(image)
            await tx.images.update(image.id, status=ImageStatus.DELETING, modified_ms=now)
            await tx.versions.mark_all(image.id, VersionStatus.DELETING, now)
            await tx.jobs.add(JobKind.IMAGE_DELETE, image.id, None, self._deps.transition_due(now))
        return {}

    async def list_images(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        listing = pages.sorted_listing(
            "ListImages",
            ctx,
            request,
            SORT_KEYS,
            default_sort="CREATION_TIME",
            descending="DESCENDING",
            page_size=DEFAULT_PAGE_SIZE,
        )
        rows = await self._store.reader.images.page(
            ctx.account,
            ctx.region,
            time_filters(request),
            (request.get("NameContains") or "").lower() or None,
            listing.page,
        )
        prefix = image_arn_prefix(ctx.region, ctx.account)
        return {
            "Images": [IMAGE.listed(r, prefix) for r in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }


def _name_taken(name: str) -> ResourceInUse:
    return ResourceInUse(
        f"The Image with ImageName {name} already exists. Please use a different ImageName."
    )
