"""CreateUserProfile, DescribeUserProfile, UpdateUserProfile, DeleteUserProfile,
ListUserProfiles.

A user profile lives in a domain and is known by its name there, compared case-insensitively
(its ARN holds the name lower-cased, as Terraform reads it back). Its UserSettings are kept
as sent: the domain's defaults are not merged into what Describe shows.
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
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound, ValidationError
from sagemaker_images.resources.kinds import DOMAIN, SPACE, USER_PROFILE
from sagemaker_images.resources.records import UserProfileRecord
from sagemaker_images.resources.states import StudioStatus
from sagemaker_images.store import DuplicateKey, Reads

PROFILE_WIRE = Wire(USER_PROFILE)
SORT_KEYS = member_sort_keys(UserProfileRecord)
_SSO = ("SingleSignOnUserIdentifier", "SingleSignOnUserValue")


def profile_arn(ctx: RequestContext, domain_id: str, name: str) -> str:
    return USER_PROFILE.arn(ctx.region, ctx.account, domain_id, name)


def profile_not_found(ctx: RequestContext, domain_id: str, name: str) -> ResourceNotFound:
    return ResourceNotFound(f"UserProfile {profile_arn(ctx, domain_id, name)} does not exist.")


async def require_profile(
    reads: Reads, ctx: RequestContext, domain_id: str, name: str, *, lock: bool = False
) -> UserProfileRecord:
    profile = await reads.of(USER_PROFILE).find(
        ctx.account, ctx.region, domain_id, name.lower(), lock=lock
    )
    if profile is None:
        raise profile_not_found(ctx, domain_id, name)
    return profile


def _check_single_sign_on(request: dict[str, Any], auth_mode: str) -> None:
    given = [member for member in _SSO if member in request]
    if auth_mode == "SSO" and len(given) < len(_SSO):
        raise ValidationError(
            "SingleSignOnUserIdentifier and SingleSignOnUserValue are required for a domain"
            " whose AuthMode is SSO."
        )
    if auth_mode != "SSO" and given:
        raise ValidationError(
            f"{given[0]} can only be specified for a domain whose AuthMode is SSO."
        )


class UserProfiles(Handlers):
    kind = USER_PROFILE

    async def create_user_profile(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        domain_id, name = request["DomainId"], request["UserProfileName"]
        tags = tag_pairs(request.get("Tags", ()))
        arn = profile_arn(ctx, domain_id, name)
        now = self._runtime.clock()
        limit = self._runtime.limit(USER_PROFILE)
        async with self._store.transaction() as tx:
            domain = await require_domain(tx, ctx, domain_id, lock=True)
            refuse_unless("Domain", DOMAIN.arn_of(domain), domain.status, DOMAIN_USABLE)
            _check_single_sign_on(request, domain.auth_mode)
            profiles = tx.of(USER_PROFILE)
            if await profiles.find(ctx.account, ctx.region, domain_id, name.lower()):
                raise ResourceInUse(f"UserProfile {arn} already exists.")
            used = await profiles.count(ctx.account, ctx.region, domain_id=domain_id)
            if used >= limit:
                raise limit_exceeded(USER_PROFILE, limit, used)
            await check_attachments(tx, ctx, (request.get("UserSettings"),))
            record = UserProfileRecord(
                id=0,
                account=ctx.account,
                region=ctx.region,
                domain_id=domain_id,
                name_key=name.lower(),
                home_efs_uid=str(await tx.of(DOMAIN).increment(domain.id, "last_uid")),
                status=StudioStatus.PENDING,
                failure_reason=None,
                created_ms=now,
                modified_ms=now,
                **PROFILE_WIRE.given(request),
            )
            try:
                row = await profiles.insert(record)
            except DuplicateKey:
                raise ResourceInUse(f"UserProfile {arn} already exists.") from None
            await attach(tx, (USER_PROFILE.arn_type, row), tags)
            due = self._runtime.transition_due(now)
            await tx.jobs.add(USER_PROFILE.job("create"), row, None, due)
        return {"UserProfileArn": arn}

    async def describe_user_profile(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        domain_id = request["DomainId"]
        profile = await require_profile(
            self._store.reader, ctx, domain_id, request["UserProfileName"]
        )
        prefix = USER_PROFILE.arn_prefix(ctx.region, ctx.account, domain_id)
        return PROFILE_WIRE.described(profile, prefix)

    async def update_user_profile(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        domain_id, name = request["DomainId"], request["UserProfileName"]
        async with self._store.transaction() as tx:
            profile = await require_profile(tx, ctx, domain_id, name, lock=True)
            arn = profile_arn(ctx, domain_id, profile.name)
            refuse_unless("UserProfile", arn, profile.status, UPDATABLE)
            changes: dict[str, Any] = {}
            if "UserSettings" in request:
                changes["user_settings"] = merged(profile.user_settings, request["UserSettings"])
            await check_attachments(tx, ctx, (request.get("UserSettings"),))
            await begin_transition(
                self._runtime,
                tx,
                USER_PROFILE,
                "update",
                profile.id,
                failure_reason=None,
                **changes,
            )
        return {"UserProfileArn": arn}

    async def delete_user_profile(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        domain_id, name = request["DomainId"], request["UserProfileName"]
        async with self._store.transaction() as tx:
            profile = await require_profile(tx, ctx, domain_id, name, lock=True)
            arn = profile_arn(ctx, domain_id, profile.name)
            refuse_if_busy("UserProfile", arn, profile.status)
            await release_apps(tx, ctx, profile, arn)
            for space in await tx.of(SPACE).matching(ctx.account, ctx.region, domain_id=domain_id):
                owner = (space.ownership_settings or {}).get("OwnerUserProfileName", "")
                sharing = (space.space_sharing_settings or {}).get("SharingType")
                if owner.lower() == profile.name_key and sharing == "Private":
                    raise ResourceInUse(
                        f"Unable to delete UserProfile [{arn}] because Space(s) are associated"
                        " with it."
                    )
            await begin_transition(self._runtime, tx, USER_PROFILE, "delete", profile.id)
        return {}

    async def list_user_profiles(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        listing = studio_listing("ListUserProfiles", ctx, request, SORT_KEYS)
        rows = await self._store.reader.of(USER_PROFILE).page(
            ctx.account,
            ctx.region,
            listing.page,
            equal={"domain_id": request.get("DomainIdEquals")},
            name_contains=(request.get("UserProfileNameContains") or "").lower() or None,
        )
        return {
            "UserProfiles": [PROFILE_WIRE.listed(row, "") for row in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }
