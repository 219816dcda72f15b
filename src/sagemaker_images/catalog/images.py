"""CreateImage, DescribeImage, UpdateImage, DeleteImage, ListImages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.common import (
    DEFAULT_PAGE_SIZE,
    Handlers,
    limit_exceeded,
    require_image,
    time_filters,
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ValidationError
from sagemaker_images.resources.kinds import IMAGE
from sagemaker_images.resources.records import ImageRecord
from sagemaker_images.resources.states import ImageStatus, VersionStatus
from sagemaker_images.store import DuplicateKey, image_ref

BUSY = frozenset({ImageStatus.CREATING, ImageStatus.UPDATING, ImageStatus.DELETING})
IMAGE_WIRE = Wire(IMAGE)
SORT_KEYS = pages.named_sort_keys(ImageRecord, "CREATION_TIME", "LAST_MODIFIED_TIME", "IMAGE_NAME")


def refuse_if_busy(image: ImageRecord) -> None:
    if image.status in BUSY:
        raise ResourceInUse(
            f"Image {image.name} is currently {image.status}. Retry after the operation completes."
        )


class Images(Handlers):
    kind = IMAGE

    async def create_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ImageName"]
        tags = tag_pairs(request.get("Tags", ()))
        now = self._runtime.clock()
        limit = self._runtime.limit(IMAGE)
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
            **IMAGE_WIRE.given(request),
        )
        async with self._store.transaction() as tx:
            images = tx.of(IMAGE)
            await images.lock_quota(ctx.account, ctx.region)
            if await images.find(ctx.account, ctx.region, record.name_key) is not None:
                raise _name_taken(name)
            used = await images.count(ctx.account, ctx.region)
            if used >= limit:
                raise limit_exceeded(IMAGE, limit, used)
            try:
                image_id = await images.insert(record)
            except DuplicateKey:
                raise _name_taken(name) from None
            await attach(tx, (IMAGE.arn_type, image_id), tags)
            due = self._runtime.transition_due(now)
            await tx.jobs.add(IMAGE.job("create"), image_id, None, due)
            await tx.events.image(replace(record, id=image_id), ImageStatus.CREATING, now)
        return {"ImageArn": IMAGE.arn(ctx.region, ctx.account, name)}

    async def describe_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        image = await require_image(self._store.reader, ctx, request["ImageName"])
        return IMAGE_WIRE.described(image, IMAGE.arn_prefix(ctx.region, ctx.account))

    async def update_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        deleted = set(request.get("DeleteProperties", ()))
        both = sorted(p for p in deleted if p in request)
        if both:
            raise ValidationError(
                f"Property {both[0]} cannot be both updated and deleted in one request."
            )
        changes = IMAGE_WIRE.changes(request)
        changes.update({IMAGE_WIRE.column_of(member): None for member in deleted})
        now = self._runtime.clock()
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            refuse_if_busy(image)
            await tx.of(IMAGE).update(
                image.id,
                status=ImageStatus.UPDATING,
                failure_reason=None,
                modified_ms=now,
                **changes,
            )
            due = self._runtime.transition_due(now)
            await tx.jobs.add(IMAGE.job("update"), image.id, None, due)
            await tx.events.image(image, ImageStatus.UPDATING, now)
        return {"ImageArn": IMAGE.arn(ctx.region, ctx.account, image.name)}

    async def delete_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        now = self._runtime.clock()
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            refuse_if_busy(image)
            await tx.of(IMAGE).update(image.id, status=ImageStatus.DELETING, modified_ms=now)
            entering = await tx.versions.mark_all(image.id, VersionStatus.DELETING, now)
            due = self._runtime.transition_due(now)
            await tx.jobs.add(IMAGE.job("delete"), image.id, None, due)
            await tx.events.image(image, ImageStatus.DELETING, now)
            await tx.events.versions(
                image_ref(image), [(n, VersionStatus.DELETING, None) for n in entering], now
            )
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
        rows = await self._store.reader.of(IMAGE).page(
            ctx.account,
            ctx.region,
            listing.page,
            times=time_filters(request),
            name_contains=(request.get("NameContains") or "").lower() or None,
        )
        prefix = IMAGE.arn_prefix(ctx.region, ctx.account)
        return {
            "Images": [IMAGE_WIRE.listed(r, prefix) for r in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }


def _name_taken(name: str) -> ResourceInUse:
    return ResourceInUse(
        f"The Image with ImageName {name} already exists. Please use a different ImageName."
    )
