"""CreateImageVersion, DescribeImageVersion, UpdateImageVersion, DeleteImageVersion,
ListImageVersions and ListAliases."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Members
from sagemaker_images.catalog.arns import image_arn, image_version_arn, image_version_arn_prefix
from sagemaker_images.catalog.common import (
    DEFAULT_PAGE_SIZE,
    Deps,
    image_not_found,
    limit_exceeded,
    require_image,
    require_selector,
    time_filters,
)
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound, ValidationError
from sagemaker_images.records import (
    CLIENT_TOKEN_LIFETIME_MS,
    ClientTokenRecord,
    ImageRecord,
    VersionRecord,
)
from sagemaker_images.states import ImageStatus, JobKind, VersionStatus
from sagemaker_images.store import DuplicateKey, Reads
from sagemaker_images.store.versions import LISTED, ListedVersion, NewVersion

BUSY = frozenset({VersionStatus.CREATING, VersionStatus.DELETING})
VERSION = Members(VersionRecord, "ImageVersionArn", "version", shared=("ImageArn",))

# ListImageVersions SortBy -> its keyset (ties broken by version), over the listed rows.
SORT_KEYS: dict[str, pages.SortKey] = {
    "CREATION_TIME": pages.row_key(VersionRecord, LISTED, "created_ms", "version"),
    "LAST_MODIFIED_TIME": pages.row_key(VersionRecord, LISTED, "modified_ms", "version"),
    "VERSION": pages.row_key(VersionRecord, LISTED, "version"),
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
    ctx: RequestContext, image: ImageRecord, rows: list[ListedVersion]
) -> list[dict[str, Any]]:
    """ListImageVersions' items."""
    return VERSION.listed_rows(
        rows,
        image_version_arn_prefix(ctx.region, ctx.account, image.name),
        image_arn(ctx.region, ctx.account, image.name),
    )


def version_details(ctx: RequestContext, image: ImageRecord, v: VersionRecord) -> dict[str, Any]:
    """DescribeImageVersion's answer."""
    return VERSION.described(
        v,
        image_version_arn_prefix(ctx.region, ctx.account, image.name),
        image_arn(ctx.region, ctx.account, image.name),
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


class Versions:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._store = deps.store

    async def create_image_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        now = self._deps.clock()
        digest = request_digest(request)
        aliases = list(dict.fromkeys(request.get("Aliases", ())))
        limit = self._deps.settings.max_versions_per_image
        # The writes are made first, unchecked: the store numbers and writes the version only
        # while the image exists, may take a version and has none made with this client
        # token, and an alias held already fails them whole (DuplicateKey): on PostgreSQL
        # the whole call is then one statement. Refused, the checks say why (an error, or
        # the answer given to this token before) and the writes are made again after them:
        # another call may have taken the alias, the token or the last place meanwhile, and
        # the checks of the next attempt see it.
        for attempt in range(4):
            try:
                created = await self._create_version(
                    ctx, request, now, digest, aliases, limit, check=attempt > 0
                )
            except DuplicateKey:
                continue
            if created is not None:
                return created
        raise ResourceInUse(f"Image {request['ImageName']} changed meanwhile. Retry.")

    async def _create_version(
        self,
        ctx: RequestContext,
        request: dict[str, Any],
        now: int,
        digest: str,
        aliases: list[str],
        limit: int,
        *,
        check: bool,
    ) -> dict[str, Any] | None:
        """The new version's ARN, or the earlier answer to its client token; None when the
        store refused the writes (checked: the image changed between the checks and them)."""
        name = request["ImageName"]
        token = request["ClientToken"]
        renew = None
        if check:
            reads = self._store.reader
            image = await require_image(reads, ctx, name)
            earlier = await reads.versions.client_token(image.id, token)
            expiry = now - CLIENT_TOKEN_LIFETIME_MS
            if earlier is not None and earlier.created_ms <= expiry:
                renew = expiry
            elif earlier is not None:
                if earlier.request_digest != digest:
                    raise ValidationError(
                        f"ClientToken {token} was already used with different parameters."
                    )
                return {"ImageVersionArn": version_arn(ctx, image, earlier.version)}
            _check_takes_version(image, limit)
            holders = await reads.aliases.holders(image.id, aliases)
            if holders:
                alias, holder = next(iter(holders.items()))
                raise _alias_taken(image, alias, holder)
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
                **VERSION.given(request),
            ),
            token=ClientTokenRecord(0, token, digest, 0, now),
            aliases=aliases,
            job=(JobKind.VERSION_CREATE, self._deps.transition_due(now)),
            status=ImageStatus.CREATED,
            limit=limit,
        )
        created = await self._store.create_version(new, renew_before_ms=renew)
        if created is None:
            return None
        stored_name, number = created
        return {"ImageVersionArn": image_version_arn(ctx.region, ctx.account, stored_name, number)}

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
        changes = VERSION.changes(request)
        now = self._deps.clock()
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
        now = self._deps.clock()
        async with self._store.transaction() as tx:
            image, version = await require_version(tx, ctx, request, lock=True)
            refuse_if_busy(ctx, image, version)
            await tx.versions.update(
                image.id, version.version, status=VersionStatus.DELETING, modified_ms=now
            )
            await tx.jobs.add(
                JobKind.VERSION_DELETE, image.id, version.version, self._deps.transition_due(now)
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


def _check_takes_version(image: ImageRecord, limit: int) -> None:
    """An image takes a new version only when CREATED and under its quota."""
    if image.status != ImageStatus.CREATED:
        raise ValidationError(f"Image {image.name} is in an invalid state.")
    if image.version_count >= limit:
        raise limit_exceeded(
            "Maximum number of versions per image", limit, image.version_count, "ImageVersions"
        )


def _alias_taken(image: ImageRecord, alias: str, holder: int) -> ValidationError:
    return ValidationError(
        f"Alias {alias} is already associated with version {holder} of image {image.name}."
    )
