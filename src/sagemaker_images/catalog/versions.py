"""CreateImageVersion, DescribeImageVersion, UpdateImageVersion, DeleteImageVersion,
ListImageVersions and ListAliases."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.common import (
    DEFAULT_PAGE_SIZE,
    Handlers,
    image_not_found,
    limit_exceeded,
    require_image,
    require_selector,
    time_filters,
)
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound, ServiceError, ValidationError
from sagemaker_images.resources.kinds import IMAGE, VERSION
from sagemaker_images.resources.records import ClientTokenRecord, ImageRecord, VersionRecord
from sagemaker_images.resources.states import ImageStatus, VersionStatus
from sagemaker_images.store import Reads, image_ref
from sagemaker_images.store.versions import (
    LISTED,
    ListedVersion,
    NewVersion,
    Refused,
    Why,
)

BUSY = frozenset({VersionStatus.CREATING, VersionStatus.DELETING})
VERSION_WIRE = Wire(VERSION, shared=("ImageArn",))

# ListImageVersions SortBy -> its keyset (ties broken by version), over the listed rows.
SORT_KEYS: dict[str, pages.SortKey] = {
    "CREATION_TIME": pages.row_key(VersionRecord, LISTED, "created_ms", "version"),
    "LAST_MODIFIED_TIME": pages.row_key(VersionRecord, LISTED, "modified_ms", "version"),
    "VERSION": pages.row_key(VersionRecord, LISTED, "version"),
}


def version_arn(ctx: RequestContext, image: ImageRecord, version: int) -> str:
    return VERSION.arn(ctx.region, ctx.account, image.name, version)


def version_not_found(ctx: RequestContext, image: ImageRecord, version: int) -> ResourceNotFound:
    return ResourceNotFound(
        f"ImageVersion with ARN {version_arn(ctx, image, version)} does not exist"
    )


def alias_not_found(image: ImageRecord, alias: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"ImageVersion with alias {alias} for ImageName {image.name} does not exist"
    )


def version_summaries(
    ctx: RequestContext, image: ImageRecord, rows: list[ListedVersion]
) -> list[dict[str, Any]]:
    """ListImageVersions' items."""
    return VERSION_WIRE.listed_rows(
        rows,
        VERSION.arn_prefix(ctx.region, ctx.account, image.name),
        IMAGE.arn(ctx.region, ctx.account, image.name),
    )


def version_details(ctx: RequestContext, image: ImageRecord, v: VersionRecord) -> dict[str, Any]:
    """DescribeImageVersion's answer."""
    return VERSION_WIRE.described(
        v,
        VERSION.arn_prefix(ctx.region, ctx.account, image.name),
        IMAGE.arn(ctx.region, ctx.account, image.name),
    )


def request_digest(request: dict[str, Any]) -> str:
    """What a ClientToken promises: every member of the call but the token and the image."""
    members = {k: v for k, v in request.items() if k not in {"ClientToken", "ImageName"}}
    raw = orjson.dumps(members, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


async def require_version(
    reads: Reads, ctx: RequestContext, request: dict[str, Any], *, lock: bool = False
) -> tuple[ImageRecord, VersionRecord]:
    """The image a request names and the version its `Version` and/or `Alias` select;
    neither selects the latest."""
    name = request["ImageName"]
    number = request.get("Version")
    alias = request.get("Alias")
    found = await reads.versions.lookup(
        ctx.account, ctx.region, name.lower(), version=number, alias=alias, lock=lock
    )
    image = found.image
    if image is None:
        raise image_not_found(ctx, name)
    if alias is not None:
        if found.alias_version is None:
            raise alias_not_found(image, alias)
        if number is not None and number != found.alias_version:
            raise ValidationError(
                f"Alias {alias} refers to version {found.alias_version} of image {image.name},"
                f" not to version {number}."
            )
    if found.version is None:
        if number is None and alias is None:
            raise ResourceNotFound(
                f"Latest ImageVersion with ImageName {image.name} does not exist."
                " Please provide a valid ImageName."
            )
        missing = number if number is not None else found.alias_version
        assert missing is not None  # an alias that names no version is reported above
        raise version_not_found(ctx, image, missing)
    return image, found.version


def refuse_if_busy(ctx: RequestContext, image: ImageRecord, version: VersionRecord) -> None:
    if version.status in BUSY:
        raise ResourceInUse(
            f"ImageVersion {version_arn(ctx, image, version.version)} is currently"
            f" {version.status}. Retry after the operation completes."
        )


class Versions(Handlers):
    kind = VERSION

    async def create_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        now = self._runtime.clock()
        name = request["ImageName"]
        digest = request_digest(request)
        new = NewVersion(
            image=(ctx.account, ctx.region, name.lower()),
            version=VersionRecord(
                image_id=0,
                version=0,
                container_image=None,
                status=VersionStatus.CREATING,
                failure_reason=None,
                created_ms=now,
                modified_ms=now,
                **VERSION_WIRE.given(request),
            ),
            token=ClientTokenRecord(0, request["ClientToken"], digest, 0, now),
            aliases=list(dict.fromkeys(request.get("Aliases", ()))),
            job=(VERSION.job("create"), self._runtime.transition_due(now)),
            status=ImageStatus.CREATED,
            limit=self._runtime.limit(VERSION),
        )
        outcome = await self._store.create_version(new)
        if isinstance(outcome, Refused):
            raise _refusal(ctx, new, request, outcome)
        arn = VERSION.arn(ctx.region, ctx.account, outcome.name, outcome.number)
        return {"ImageVersionArn": arn}

    async def describe_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        image, version = await require_version(self._store.reader, ctx, request)
        return version_details(ctx, image, version)

    async def update_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        require_selector(request)
        to_add = list(dict.fromkeys(request.get("AliasesToAdd", ())))
        to_delete = list(dict.fromkeys(request.get("AliasesToDelete", ())))
        both = [a for a in to_add if a in to_delete]
        if both:
            raise ValidationError(
                f"Alias {both[0]} cannot be both added and deleted in one request."
            )
        changes = VERSION_WIRE.changes(request)
        now = self._runtime.clock()
        async with self._store.transaction() as tx:
            image, version = await require_version(tx, ctx, request, lock=True)
            refuse_if_busy(ctx, image, version)
            holders = await tx.aliases.holders(image.id, [*to_add, *to_delete])
            for alias in to_delete:
                if holders.get(alias) != version.version:
                    raise ValidationError(
                        f"Alias {alias} is not associated with version {version.version}"
                        f" of image {image.name}."
                    )
            for alias in to_add:
                holder = holders.get(alias)
                if holder is not None and holder != version.version:
                    raise _alias_taken(image, alias, holder)
            await tx.aliases.delete(image.id, to_delete)
            await tx.aliases.add(image.id, version.version, [a for a in to_add if a not in holders])
            if changes or to_add or to_delete:
                await tx.versions.update(image.id, version.version, modified_ms=now, **changes)
        return {"ImageVersionArn": version_arn(ctx, image, version.version)}

    async def delete_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        require_selector(request)
        now = self._runtime.clock()
        async with self._store.transaction() as tx:
            image, version = await require_version(tx, ctx, request, lock=True)
            refuse_if_busy(ctx, image, version)
            await tx.versions.update(
                image.id, version.version, status=VersionStatus.DELETING, modified_ms=now
            )
            due = self._runtime.transition_due(now)
            await tx.jobs.add(VERSION.job("delete"), image.id, version.version, due)
            await tx.events.versions(
                image_ref(image), [(version.version, VersionStatus.DELETING, None)], now
            )
        return {}

    async def list_image_versions(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        listing = pages.sorted_listing(
            "ListImageVersions",
            ctx,
            request,
            SORT_KEYS,
            default_sort="CREATION_TIME",
            descending="DESCENDING",
            page_size=DEFAULT_PAGE_SIZE,
        )
        reads = self._store.reader
        image = await require_image(reads, ctx, request["ImageName"])
        rows = await reads.versions.page(image.id, time_filters(request), listing.page)
        return {
            "ImageVersions": version_summaries(ctx, image, rows[: listing.limit]),
            "NextToken": listing.next_token(rows),
        }

    async def list_aliases(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        limit = request.get("MaxResults", DEFAULT_PAGE_SIZE)
        digest, after = pages.position("ListAliases", ctx, request, (int, str))
        reads = self._store.reader
        image = await require_image(reads, ctx, request["ImageName"])
        number = request.get("Version")
        alias = request.get("Alias")
        if number is not None and await reads.versions.find(image.id, number) is None:
            raise version_not_found(ctx, image, number)
        if alias is not None and await reads.aliases.version_of(image.id, alias) is None:
            raise alias_not_found(image, alias)
        rows = await reads.aliases.page(image.id, number, alias, after, limit + 1)
        return {
            "SageMakerImageVersionAliases": [a for _, a in rows[:limit]],
            "NextToken": pages.next_token(digest, rows, limit, lambda row: row),
        }


def _refusal(
    ctx: RequestContext, new: NewVersion, request: dict[str, Any], refused: Refused
) -> ServiceError:
    """The error of a create the store refused, in AWS's words."""
    image = refused.image
    if refused.why is Why.CONTENDED:
        return ResourceInUse(f"Image {request['ImageName']} changed meanwhile. Retry.")
    if image is None:
        return image_not_found(ctx, request["ImageName"])
    if refused.why is Why.TOKEN_REUSED:
        return ValidationError(
            f"ClientToken {new.token.token} was already used with different parameters."
        )
    if refused.why is Why.NOT_READY:
        return ValidationError(f"Image {image.name} is in an invalid state.")
    if refused.why is Why.AT_LIMIT:
        return limit_exceeded(VERSION, new.limit, image.version_count)
    assert refused.alias is not None and refused.holder is not None
    return _alias_taken(image, refused.alias, refused.holder)


def _alias_taken(image: ImageRecord, alias: str, holder: int) -> ValidationError:
    return ValidationError(
        f"Alias {alias} is already associated with version {holder} of image {image.name}."
    )
