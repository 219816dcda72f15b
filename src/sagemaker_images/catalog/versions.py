"""CreateImageVersion, DescribeImageVersion, UpdateImageVersion, DeleteImageVersion,
ListImageVersions and ListAliases."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.arns import image_arn, image_version_arn, image_version_arn_prefix
from sagemaker_images.catalog.common import (
    DEFAULT_PAGE_SIZE,
    Deps,
    compact,
    exactly_one_selector,
    image_not_found,
    limit_exceeded,
    require_image,
    time_filters,
)
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound, ValidationError
from sagemaker_images.states import ImageStatus, JobKind, VersionStatus
from sagemaker_images.store import Reads
from sagemaker_images.store.records import (
    ClientTokenRecord,
    ImageRecord,
    VersionRecord,
    VersionSummaryRow,
)

CLIENT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000
BUSY = frozenset({VersionStatus.CREATING, VersionStatus.DELETING})

# Request members that describe a version, and the columns that keep them.
METADATA_COLUMNS = {
    "VendorGuidance": "vendor_guidance",
    "JobType": "job_type",
    "MLFramework": "ml_framework",
    "ProgrammingLang": "programming_lang",
    "Processor": "processor",
    "Horovod": "horovod",
    "ReleaseNotes": "release_notes",
}

# ListImageVersions SortBy -> its keyset (ties broken by version): rows are plain tuples.
SORT_KEYS: dict[str, pages.SortKey] = {
    "CREATION_TIME": (("created_ms", "version"), (int, int), lambda row: (row[3], row[0])),
    "LAST_MODIFIED_TIME": (("modified_ms", "version"), (int, int), lambda row: (row[4], row[0])),
    "VERSION": (("version",), (int,), lambda row: (row[0],)),
}


def version_arn(ctx: RequestContext, image: ImageRecord, version: int) -> str:
    return image_version_arn(ctx.region, ctx.account, image.name, version)


def version_not_found(ctx: RequestContext, image: ImageRecord, version: int) -> ResourceNotFound:
    return ResourceNotFound(
        f"ImageVersion with ARN {version_arn(ctx, image, version)} does not exist"
    )


def alias_not_found(image: ImageRecord, alias: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"ImageVersion with alias {alias} for ImageName {image.name} does not exist"
    )


def version_summaries(
    ctx: RequestContext, image: ImageRecord, rows: Iterable[VersionSummaryRow]
) -> list[dict[str, Any]]:
    """ListImageVersions' items; built in one pass, as a page may hold a hundred."""
    arn_of_image = image_arn(ctx.region, ctx.account, image.name)
    arn_prefix = image_version_arn_prefix(ctx.region, ctx.account, image.name)
    items = []
    for version, status, failure_reason, created_ms, modified_ms in rows:
        item = {
            "CreationTime": created_ms / 1000,
            "ImageArn": arn_of_image,
            "ImageVersionArn": arn_prefix + str(version),
            "ImageVersionStatus": status,
            "LastModifiedTime": modified_ms / 1000,
            "Version": version,
        }
        if failure_reason is not None:
            item["FailureReason"] = failure_reason
        items.append(item)
    return items


def version_details(ctx: RequestContext, image: ImageRecord, v: VersionRecord) -> dict[str, Any]:
    """DescribeImageVersion's answer.

    It spells a summary's members again rather than going through `version_summaries`: a
    list of one, its loop and a second dictionary were about 8% of a Describe's own work
    (`benchmarks/instructions.py`), on the read whose rate the benchmark holds against the
    bare app's. The members must stay those of `version_summaries`, which
    test_listed_versions_say_what_describe_says checks.
    """
    details = {
        "CreationTime": v.created_ms / 1000,
        "ImageArn": image_arn(ctx.region, ctx.account, image.name),
        "ImageVersionArn": image_version_arn_prefix(ctx.region, ctx.account, image.name)
        + str(v.version),
        "ImageVersionStatus": v.status,
        "LastModifiedTime": v.modified_ms / 1000,
        "Version": v.version,
        "BaseImage": v.base_image,
    }
    for member, value in (
        ("FailureReason", v.failure_reason),
        ("ContainerImage", v.container_image),
        ("VendorGuidance", v.vendor_guidance),
        ("JobType", v.job_type),
        ("MLFramework", v.ml_framework),
        ("ProgrammingLang", v.programming_lang),
        ("Processor", v.processor),
        ("Horovod", v.horovod),
        ("ReleaseNotes", v.release_notes),
    ):
        if value is not None:  # AWS omits absent members rather than sending null
            details[member] = value
    return details


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
    found = await reads.lookup_version(
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
        raise version_not_found(ctx, image, number if number is not None else found.alias_version)
    return image, found.version


def refuse_if_busy(ctx: RequestContext, image: ImageRecord, version: VersionRecord) -> None:
    if version.status in BUSY:
        raise ResourceInUse(
            f"ImageVersion {version_arn(ctx, image, version.version)} is currently"
            f" {version.status}. Retry after the operation completes."
        )


class Versions:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._store = deps.store

    async def create_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        now = self._deps.clock()
        token = request["ClientToken"]
        digest = request_digest(request)
        aliases = list(dict.fromkeys(request.get("Aliases", ())))
        limit = self._deps.settings.max_versions_per_image
        async with self._store.transaction() as tx:
            image = await require_image(tx, ctx, request["ImageName"], lock=True)
            earlier = await tx.find_client_token(image.id, token)
            if earlier is not None and earlier.created_ms > now - CLIENT_TOKEN_LIFETIME_MS:
                if earlier.request_digest != digest:
                    raise ValidationError(
                        f"ClientToken {token} was already used with different parameters."
                    )
                return {"ImageVersionArn": version_arn(ctx, image, earlier.version)}
            if image.status != ImageStatus.CREATED:
                raise ValidationError(f"Image {image.name} is in an invalid state.")
            if image.version_count >= limit:
                raise limit_exceeded(
                    "Maximum number of versions per image",
                    limit,
                    image.version_count,
                    "ImageVersions",
                )
            holders = await tx.alias_holders(image.id, aliases)
            if holders:
                alias, holder = next(iter(holders.items()))
                raise _alias_taken(image, alias, holder)
            number = await tx.allocate_version(image.id)
            await tx.insert_version(
                VersionRecord(
                    image_id=image.id,
                    version=number,
                    base_image=request["BaseImage"],
                    container_image=None,
                    status=VersionStatus.CREATING,
                    failure_reason=None,
                    vendor_guidance=request.get("VendorGuidance"),
                    job_type=request.get("JobType"),
                    ml_framework=request.get("MLFramework"),
                    programming_lang=request.get("ProgrammingLang"),
                    processor=request.get("Processor"),
                    horovod=request.get("Horovod"),
                    release_notes=request.get("ReleaseNotes"),
                    created_ms=now,
                    modified_ms=now,
                )
            )
            await tx.add_aliases(image.id, number, aliases)
            await tx.put_client_token(image.id, token, ClientTokenRecord(digest, number, now))
            await tx.add_job(
                JobKind.VERSION_CREATE, image.id, number, self._deps.transition_due(now)
            )
        return {"ImageVersionArn": version_arn(ctx, image, number)}

    async def describe_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        image, version = await require_version(self._store.reader, ctx, request)
        return version_details(ctx, image, version)

    async def update_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        exactly_one_selector(request)
        to_add = list(dict.fromkeys(request.get("AliasesToAdd", ())))
        to_delete = list(dict.fromkeys(request.get("AliasesToDelete", ())))
        both = [a for a in to_add if a in to_delete]
        if both:
            raise ValidationError(
                f"Alias {both[0]} cannot be both added and deleted in one request."
            )
        changes = {
            column: request[member]
            for member, column in METADATA_COLUMNS.items()
            if member in request
        }
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image, version = await require_version(tx, ctx, request, lock=True)
            refuse_if_busy(ctx, image, version)
            holders = await tx.alias_holders(image.id, [*to_add, *to_delete])
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
            await tx.delete_aliases(image.id, to_delete)
            await tx.add_aliases(image.id, version.version, [a for a in to_add if a not in holders])
            if changes or to_add or to_delete:
                await tx.update_version(image.id, version.version, modified_ms=now, **changes)
        return {"ImageVersionArn": version_arn(ctx, image, version.version)}

    async def delete_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        exactly_one_selector(request)
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image, version = await require_version(tx, ctx, request, lock=True)
            refuse_if_busy(ctx, image, version)
            await tx.update_version(
                image.id, version.version, status=VersionStatus.DELETING, modified_ms=now
            )
            await tx.add_job(
                JobKind.VERSION_DELETE, image.id, version.version, self._deps.transition_due(now)
            )
        return {}

    async def list_image_versions(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        listing = pages.sorted_listing(
            "ListImageVersions",
            request,
            SORT_KEYS,
            default_sort="CREATION_TIME",
            descending="DESCENDING",
            page_size=DEFAULT_PAGE_SIZE,
        )
        reads = self._store.reader
        image = await require_image(reads, ctx, request["ImageName"])
        rows = await reads.list_versions(image.id, time_filters(request), listing.page)
        return compact(
            {
                "ImageVersions": version_summaries(ctx, image, rows[: listing.limit]),
                "NextToken": listing.next_token(rows),
            }
        )

    async def list_aliases(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        limit = request.get("MaxResults", DEFAULT_PAGE_SIZE)
        digest, after = pages.position("ListAliases", request, (int, str))
        reads = self._store.reader
        image = await require_image(reads, ctx, request["ImageName"])
        number = request.get("Version")
        alias = request.get("Alias")
        if number is not None and await reads.find_version(image.id, number) is None:
            raise version_not_found(ctx, image, number)
        if alias is not None and await reads.version_for_alias(image.id, alias) is None:
            raise alias_not_found(image, alias)
        rows = await reads.list_aliases(image.id, number, alias, after, limit + 1)  # type: ignore[arg-type]
        return compact(
            {
                "SageMakerImageVersionAliases": [a for _, a in rows[:limit]],
                "NextToken": pages.next_token(digest, rows, limit, lambda row: row),
            }
        )


def _alias_taken(image: ImageRecord, alias: str, holder: int) -> ValidationError:
    return ValidationError(
        f"Alias {alias} is already associated with version {holder} of image {image.name}."
    )
