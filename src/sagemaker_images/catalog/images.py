"""CreateImage, DescribeImage, UpdateImage, DeleteImage, ListImages."""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.arns import image_arn
from sagemaker_images.catalog.common import (
    DEFAULT_PAGE_SIZE,
    Deps,
    compact,
    limit_exceeded,
    require_image,
    seconds,
    time_filters,
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ValidationError
from sagemaker_images.states import ImageStatus, JobKind, VersionStatus
from sagemaker_images.store import DuplicateKey
from sagemaker_images.store.base import IMAGE_TAGS
from sagemaker_images.store.records import ImageRecord

BUSY = frozenset({ImageStatus.CREATING, ImageStatus.UPDATING, ImageStatus.DELETING})

SORT_KEYS = pages.named_sort_keys("CREATION_TIME", "LAST_MODIFIED_TIME", "IMAGE_NAME")

_PROPERTY_COLUMNS = {"Description": "description", "DisplayName": "display_name"}


def refuse_if_busy(image: ImageRecord) -> None:
    if image.status in BUSY:
        raise ResourceInUse(
            f"Image {image.name} is currently {image.status}. Retry after the operation completes."
        )


def image_summary(image: ImageRecord) -> dict[str, Any]:
    return compact(
        {
            "CreationTime": seconds(image.created_ms),
            "Description": image.description,
            "DisplayName": image.display_name,
            "FailureReason": image.failure_reason,
            "ImageArn": image_arn(image.region, image.account, image.name),
            "ImageName": image.name,
            "ImageStatus": image.status,
            "LastModifiedTime": seconds(image.modified_ms),
        }
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
        async with self._store.transaction() as tx:
            await tx.lock_quota("images", ctx.account, ctx.region)
            existing = await tx.find_image(ctx.account, ctx.region, name.lower())
            if existing is not None:
                raise _name_taken(name)
            used = await tx.count_images(ctx.account, ctx.region)
            if used >= limit:
                raise limit_exceeded("Maximum number of images per Region", limit, used, "Images")
            record = ImageRecord(
                id=0,
                account=ctx.account,
                region=ctx.region,
                name=name,
                description=request.get("Description"),
                display_name=request.get("DisplayName"),
                role_arn=request["RoleArn"],
                status=ImageStatus.CREATING,
                failure_reason=None,
                created_ms=now,
                modified_ms=now,
                last_version=0,
                version_count=0,
            )
            try:
                image_id = await tx.insert_image(record, name.lower())
            except DuplicateKey:
                raise _name_taken(name) from None
            await attach(tx, (IMAGE_TAGS, image_id), tags)
            await tx.add_job(JobKind.IMAGE_CREATE, image_id, None, self._deps.transition_due(now))
        return {"ImageArn": image_arn(ctx.region, ctx.account, name)}

    async def describe_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        image = await require_image(self._store.reader, ctx, request["ImageName"])
        response = image_summary(image)
        response["RoleArn"] = image.role_arn
        return response

    async def update_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        deleted = set(request.get("DeleteProperties", ()))
        both = sorted(p for p in deleted if p in request)
        if both:
            raise ValidationError(
                f"Property {both[0]} cannot be both updated and deleted in one request."
            )
        changes: dict[str, Any] = {
            column: request[member]
            for member, column in _PROPERTY_COLUMNS.items()
            if member in request
        }
        changes.update({_PROPERTY_COLUMNS[p]: None for p in deleted})
        if "RoleArn" in request:
            changes["role_arn"] = request["RoleArn"]
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            refuse_if_busy(image)
            await tx.update_image(
                image.id,
                status=ImageStatus.UPDATING,
                failure_reason=None,
                modified_ms=now,
                **changes,
            )
            await tx.add_job(JobKind.IMAGE_UPDATE, image.id, None, self._deps.transition_due(now))
        return {"ImageArn": image_arn(ctx.region, ctx.account, image.name)}

    async def delete_image(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            refuse_if_busy(image)
            await tx.update_image(image.id, status=ImageStatus.DELETING, modified_ms=now)
            await tx.mark_all_versions(image.id, VersionStatus.DELETING, now)
            await tx.add_job(JobKind.IMAGE_DELETE, image.id, None, self._deps.transition_due(now))
        return {}

    async def list_images(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        listing = pages.sorted_listing(
            "ListImages",
            request,
            SORT_KEYS,
            default_sort="CREATION_TIME",
            descending="DESCENDING",
            page_size=DEFAULT_PAGE_SIZE,
        )
        rows = await self._store.reader.list_images(
            ctx.account,
            ctx.region,
            time_filters(request),
            (request.get("NameContains") or "").lower() or None,
            listing.page,
        )
        return compact(
            {
                "Images": [image_summary(r) for r in rows[: listing.limit]],
                "NextToken": listing.next_token(rows),
            }
        )


def _name_taken(name: str) -> ResourceInUse:
    return ResourceInUse(
        f"The Image with ImageName {name} already exists. Please use a different ImageName."
    )
