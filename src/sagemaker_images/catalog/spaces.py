"""CreateSpace, DescribeSpace, UpdateSpace, DeleteSpace, ListSpaces.

A space lives in a domain, known by its name there (compared case-insensitively). Of its
settings only KernelGatewayAppSettings can attach custom images; its app type, once set,
stays.
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.apps import release_apps
from sagemaker_images.catalog.common import Handlers, limit_exceeded
from sagemaker_images.catalog.studio import (
    DOMAIN_USABLE,
    UPDATABLE,
    begin_transition,
    check_attachments,
    member_sort_keys,
    merged,
    refuse_if_busy,
    refuse_unless,
    require_domain,
    studio_listing,
    studio_url,
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.catalog.user_profiles import profile_not_found
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound, ValidationError
from sagemaker_images.resources.ids import random_text
from sagemaker_images.resources.kinds import DOMAIN, SPACE, USER_PROFILE
from sagemaker_images.resources.records import SpaceRecord
from sagemaker_images.resources.states import StudioStatus
from sagemaker_images.store import DuplicateKey, Reads

SPACE_WIRE = Wire(SPACE)
SORT_KEYS = member_sort_keys(SpaceRecord)
# What ListSpaces shows of each settings document.
_SUMMARIES = (
    ("SpaceSettingsSummary", "space_settings", ("AppType", "RemoteAccess", "SpaceStorageSettings")),
    ("SpaceSharingSettingsSummary", "space_sharing_settings", ("SharingType",)),
    ("OwnershipSettingsSummary", "ownership_settings", ("OwnerUserProfileName",)),
)


def _space_arn(ctx: RequestContext, domain_id: str, name: str) -> str:
    return SPACE.arn(ctx.region, ctx.account, domain_id, name)


async def require_space(
    reads: Reads, ctx: RequestContext, domain_id: str, name: str, *, lock: bool = False
) -> SpaceRecord:
    space = await reads.of(SPACE).find(ctx.account, ctx.region, domain_id, name.lower(), lock=lock)
    if space is None:
        raise ResourceNotFound(f"Space {_space_arn(ctx, domain_id, name)} does not exist.")
    return space


def _listed(space: SpaceRecord) -> dict[str, Any]:
    answer = SPACE_WIRE.listed(space, "")
    for member, column, kept in _SUMMARIES:
        document = getattr(space, column)
        if document:
            summary = {key: document[key] for key in kept if key in document}
            if summary:
                answer[member] = summary
    return answer


class Spaces(Handlers):
    kind = SPACE

    async def create_space(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        domain_id, name = request["DomainId"], request["SpaceName"]
        tags = tag_pairs(request.get("Tags", ()))
        arn = _space_arn(ctx, domain_id, name)
        now = self._runtime.clock()
        limit = self._runtime.limit(SPACE)
        async with self._store.transaction() as tx:
            domain = await require_domain(tx, ctx, domain_id, lock=True)
            refuse_unless("Domain", DOMAIN.arn_of(domain), domain.status, DOMAIN_USABLE)
            spaces = tx.of(SPACE)
            if await spaces.find(ctx.account, ctx.region, domain_id, name.lower()):
                raise ResourceInUse(f"Space {arn} already exists.")
            owner = (request.get("OwnershipSettings") or {}).get("OwnerUserProfileName")
            if owner is not None and not await tx.of(USER_PROFILE).find(
                ctx.account, ctx.region, domain_id, owner.lower()
            ):
                raise profile_not_found(ctx, domain_id, owner)
            used = await spaces.count(ctx.account, ctx.region, domain_id=domain_id)
            if used >= limit:
                raise limit_exceeded(SPACE, limit, used)
            await check_attachments(tx, ctx, (request.get("SpaceSettings"),))
            record = SpaceRecord(
                id=0,
                account=ctx.account,
                region=ctx.region,
                domain_id=domain_id,
                name_key=name.lower(),
                home_efs_uid=str(await tx.of(DOMAIN).increment(domain.id, "last_uid")),
                url=studio_url(random_text(15), ctx.region),
                status=StudioStatus.PENDING,
                failure_reason=None,
                created_ms=now,
                modified_ms=now,
                **SPACE_WIRE.given(request),
            )
            try:
                row = await spaces.insert(record)
            except DuplicateKey:
                raise ResourceInUse(f"Space {arn} already exists.") from None
            await attach(tx, (SPACE.arn_type, row), tags)
            await tx.jobs.add(SPACE.job("create"), row, None, self._runtime.transition_due(now))
        return {"SpaceArn": arn}

    async def describe_space(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        domain_id = request["DomainId"]
        space = await require_space(self._store.reader, ctx, domain_id, request["SpaceName"])
        prefix = SPACE.arn_prefix(ctx.region, ctx.account, domain_id)
        return SPACE_WIRE.described(space, prefix)

    async def update_space(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        domain_id, name = request["DomainId"], request["SpaceName"]
        changes = SPACE_WIRE.changes(request)
        async with self._store.transaction() as tx:
            space = await require_space(tx, ctx, domain_id, name, lock=True)
            arn = _space_arn(ctx, domain_id, space.name)
            refuse_unless("Space", arn, space.status, UPDATABLE)
            if "SpaceSettings" in request:
                held = (space.space_settings or {}).get("AppType")
                wanted = request["SpaceSettings"].get("AppType", held)
                if held is not None and wanted != held:
                    raise ValidationError(
                        f"The AppType of space {space.name} is {held}: it cannot be changed."
                    )
                changes["space_settings"] = merged(space.space_settings, request["SpaceSettings"])
            await check_attachments(tx, ctx, (request.get("SpaceSettings"),))
            await begin_transition(
                self._runtime, tx, SPACE, "update", space.id, failure_reason=None, **changes
            )
        return {"SpaceArn": arn}

    async def delete_space(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        domain_id, name = request["DomainId"], request["SpaceName"]
        async with self._store.transaction() as tx:
            space = await require_space(tx, ctx, domain_id, name, lock=True)
            arn = _space_arn(ctx, domain_id, space.name)
            refuse_if_busy("Space", arn, space.status)
            await release_apps(tx, ctx, space, arn)
            await begin_transition(self._runtime, tx, SPACE, "delete", space.id)
        return {}

    async def list_spaces(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        listing = studio_listing("ListSpaces", ctx, request, SORT_KEYS)
        rows = await self._store.reader.of(SPACE).page(
            ctx.account,
            ctx.region,
            listing.page,
            equal={"domain_id": request.get("DomainIdEquals")},
            name_contains=(request.get("SpaceNameContains") or "").lower() or None,
        )
        return {
            "Spaces": [_listed(row) for row in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }
