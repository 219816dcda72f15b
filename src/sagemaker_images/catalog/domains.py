"""CreateDomain, DescribeDomain, UpdateDomain, DeleteDomain, ListDomains.

A domain is a record of its settings: nothing runs in it. Its settings are stored as sent
(with the three defaults AWS fills in) and merged by updates as AWS merges them; the custom
images they attach must exist. Pending -> InService, Updating -> InService and Deleting ->
gone are jobs, paced like the images'.
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.apps import live_apps
from sagemaker_images.catalog.common import Handlers, limit_exceeded
from sagemaker_images.catalog.studio import (
    UPDATABLE,
    begin_transition,
    check_attachments,
    merged,
    refuse_if_busy,
    refuse_unless,
    require_domain,
    studio_listing,
    studio_url,
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ValidationError
from sagemaker_images.resources.ids import new_domain_id, new_hex_id
from sagemaker_images.resources.kinds import DOMAIN, SPACE, USER_PROFILE
from sagemaker_images.resources.records import DomainRecord
from sagemaker_images.resources.states import StudioStatus
from sagemaker_images.store import DuplicateKey

DOMAIN_WIRE = Wire(DOMAIN)
SORT_KEYS = {"CreationTime": pages.record_key(DomainRecord, "created_ms", "domain_id")}
# DomainSettingsForUpdate's members, as DomainSettings names them.
_SETTINGS_FOR_UPDATE = {"RStudioServerProDomainSettingsForUpdate": "RStudioServerProDomainSettings"}


def _rstudio(settings: dict[str, Any] | None) -> bool:
    rstudio = (settings or {}).get("RStudioServerProDomainSettings") or {}
    return bool(rstudio.get("DomainExecutionRoleArn"))


def _check_group_management(request: dict[str, Any], settings: dict[str, Any] | None) -> None:
    if "AppSecurityGroupManagement" in request and not _rstudio(settings):
        raise ValidationError(
            "AppSecurityGroupManagement can only be set for Rstudio enabled domains."
        )


def _file_system(creation: str) -> str:
    """A new domain's home EFS file system's id ("" when it is made without one)."""
    return new_hex_id("fs-", 17) if creation == "Enabled" else ""


def _check_home_efs(domain: DomainRecord, changes: dict[str, Any]) -> None:
    """A home EFS file system can be added by an update, never taken away."""
    wanted = changes.get("home_efs_creation")
    if wanted is None or wanted == domain.home_efs_creation:
        return
    if wanted == "Disabled":
        raise ValidationError(
            f"HomeEfsFileSystemCreation of domain {domain.domain_id} cannot be changed from"
            " Enabled to Disabled."
        )
    changes["home_efs_file_system_id"] = _file_system(wanted)


def _changes_network(domain: DomainRecord, request: dict[str, Any]) -> bool:
    """Whether an update changes what a running app's network depends on: AWS refuses
    those while apps run (the rest, images and lifecycle configs, apply to new apps)."""
    access = request.get("AppNetworkAccessType")
    subnets = request.get("SubnetIds")
    return (
        (access is not None and access != domain.app_network_access_type)
        or (subnets is not None and not set(domain.subnet_ids or ()) <= set(subnets))
        or "AppSecurityGroupManagement" in request
        or "RStudioServerProDomainSettingsForUpdate"
        in (request.get("DomainSettingsForUpdate") or {})
    )


class Domains(Handlers):
    kind = DOMAIN

    async def create_domain(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if "VpcId" not in request or "SubnetIds" not in request:
            raise ValidationError("VpcId and SubnetIds are required.")
        _check_group_management(request, request.get("DomainSettings"))
        tags = tag_pairs(request.get("Tags", ()))
        given = DOMAIN_WIRE.given(request)
        given["default_user_settings"] = {
            "AutoMountHomeEFS": "Enabled",
            **given["default_user_settings"],
        }
        given["app_network_access_type"] = given["app_network_access_type"] or "PublicInternetOnly"
        given["tag_propagation"] = given["tag_propagation"] or "DISABLED"
        given["home_efs_creation"] = given["home_efs_creation"] or "Enabled"
        # The deprecated key member and its successor name one key: each echoes the other.
        kms = given["kms_key_id"] or given["home_efs_kms_key_id"]
        given["kms_key_id"] = given["home_efs_kms_key_id"] = kms
        now = self._runtime.clock()
        domain_id = new_domain_id()
        sso = request["AuthMode"] == "SSO"
        instance = new_hex_id("ssoins-", 16)
        record = DomainRecord(
            id=0,
            account=ctx.account,
            region=ctx.region,
            domain_id=domain_id,
            name_key=request["DomainName"].lower(),
            home_efs_file_system_id=_file_system(given["home_efs_creation"]),
            url=studio_url(domain_id, ctx.region),
            sso_instance_id=new_hex_id("ins-", 16) if sso else None,
            sso_application_arn=(
                f"arn:aws:sso::{ctx.account}:application/{instance}/{new_hex_id('apl-', 16)}"
                if sso
                else None
            ),
            boundary_security_group=(
                new_hex_id("sg-", 17) if _rstudio(given["domain_settings"]) else None
            ),
            status=StudioStatus.PENDING,
            failure_reason=None,
            created_ms=now,
            modified_ms=now,
            **given,
        )
        limit = self._runtime.limit(DOMAIN)
        async with self._store.transaction() as tx:
            domains = tx.of(DOMAIN)
            await domains.lock_quota(ctx.account, ctx.region)
            held = await domains.with_name(ctx.account, ctx.region, record.name_key)
            if held is not None:
                raise ResourceInUse(f"Domain {DOMAIN.arn_of(held)} already exists.")
            used = await domains.count(ctx.account, ctx.region)
            if used >= limit:
                raise limit_exceeded(DOMAIN, limit, used)
            await check_attachments(
                tx, ctx, (record.default_user_settings, record.default_space_settings)
            )
            try:
                row = await domains.insert(record)
            except DuplicateKey:  # a name taken meanwhile (or, once in an age, the id)
                raise ResourceInUse(f"Domain {request['DomainName']} already exists.") from None
            await attach(tx, (DOMAIN.arn_type, row), tags)
            await tx.jobs.add(DOMAIN.job("create"), row, None, self._runtime.transition_due(now))
        return {
            "DomainArn": DOMAIN.arn(ctx.region, ctx.account, domain_id),
            "DomainId": domain_id,
            "Url": record.url,
        }

    async def describe_domain(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        domain = await require_domain(self._store.reader, ctx, request["DomainId"])
        answer = DOMAIN_WIRE.described(domain, DOMAIN.arn_prefix(ctx.region, ctx.account))
        if not domain.home_efs_file_system_id:  # made without one (Disabled)
            del answer["HomeEfsFileSystemId"]
        return answer

    async def update_domain(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("AppNetworkAccessType") == "VpcOnly" and not (
            "VpcId" in request and "SubnetIds" in request
        ):
            raise ValidationError(
                "VpcId and Subnet IDs are required for updating domains to VpcOnly mode."
            )
        changes = DOMAIN_WIRE.changes(request)
        async with self._store.transaction() as tx:
            domain = await require_domain(tx, ctx, request["DomainId"], lock=True)
            arn = DOMAIN.arn_of(domain)
            refuse_unless("Domain", arn, domain.status, UPDATABLE)
            if domain.vpc_id and request.get("VpcId", domain.vpc_id) != domain.vpc_id:
                raise ValidationError(
                    f"The VpcId of domain {domain.domain_id} cannot be changed: it is"
                    f" {domain.vpc_id}."
                )
            for member, column in (
                ("DefaultUserSettings", "default_user_settings"),
                ("DefaultSpaceSettings", "default_space_settings"),
            ):
                if member in request:
                    changes[column] = merged(getattr(domain, column), request[member])
            if "DomainSettingsForUpdate" in request:
                update = {
                    _SETTINGS_FOR_UPDATE.get(key, key): value
                    for key, value in request["DomainSettingsForUpdate"].items()
                }
                changes["domain_settings"] = merged(domain.domain_settings, update)
            _check_group_management(request, changes.get("domain_settings", domain.domain_settings))
            _check_home_efs(domain, changes)
            if _changes_network(domain, request) and await live_apps(tx, ctx, domain.domain_id):
                raise ValidationError(
                    f"Unable to update Domain [{arn}] with InService App. Delete all InService"
                    " apps in the domain including shared Apps for [domain-shared] User"
                    " Profile, and try again."
                )
            await check_attachments(
                tx, ctx, (request.get("DefaultUserSettings"), request.get("DefaultSpaceSettings"))
            )
            await begin_transition(
                self._runtime, tx, DOMAIN, "update", domain.id, failure_reason=None, **changes
            )
        return {"DomainArn": arn}

    async def delete_domain(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        async with self._store.transaction() as tx:
            domain = await require_domain(tx, ctx, request["DomainId"], lock=True)
            arn = DOMAIN.arn_of(domain)
            refuse_if_busy("Domain", arn, domain.status)
            in_domain = {"domain_id": domain.domain_id}
            members = await tx.of(USER_PROFILE).count(ctx.account, ctx.region, **in_domain)
            members += await tx.of(SPACE).count(ctx.account, ctx.region, **in_domain)
            if members:
                raise ResourceInUse(
                    f"Unable to delete Domain [{arn}] because UserProfile(s) or Space(s) are"
                    " associated with it."
                )
            await begin_transition(self._runtime, tx, DOMAIN, "delete", domain.id)
        return {}

    async def list_domains(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        listing = studio_listing("ListDomains", ctx, request, SORT_KEYS)
        rows = await self._store.reader.of(DOMAIN).page(ctx.account, ctx.region, listing.page)
        prefix = DOMAIN.arn_prefix(ctx.region, ctx.account)
        return {
            "Domains": [DOMAIN_WIRE.listed(row, prefix) for row in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }
