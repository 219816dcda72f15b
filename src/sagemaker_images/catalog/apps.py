"""CreateApp, DescribeApp, DeleteApp, ListApps: where a custom image is launched.

An app belongs to a user profile or a space of a domain, and is known by its domain, its
owner, its type and its name. CreateApp checks what the call alone can tell (owner, key,
the ResourceSpec's own consistency, the quota), answers while the app is Pending, and
leaves the rest to its launch, a durable job: the ResourceSpec resolved against the
catalog as it is then (the image attached to the owner's settings, its version CREATED,
its AppImageConfig of the app's kind, its lifecycle config listed), and the app ends
InService, or Failed with AWS's reason. DeleteApp: Deleting, then Deleted. A Deleted or
Failed app's record stays for the retention window (`--app-retention-seconds`), then goes.

What Describe echoes as ResourceSpec is exactly what was sent, with the image and the
instance type resolved when not sent: anything more would make Terraform plan the app's
replacement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.common import Handlers
from sagemaker_images.catalog.studio import (
    NO_CONFIG,
    check_lifecycle_config,
    in_state,
    require_domain,
    studio_listing,
)
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import (
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationError,
)
from sagemaker_images.resources.kinds import (
    APP,
    APP_IMAGE_CONFIG,
    DOMAIN,
    IMAGE,
    SPACE,
    USER_PROFILE,
    ResourceKind,
)
from sagemaker_images.resources.records import (
    AppRecord,
    DomainRecord,
    SpaceRecord,
    UserProfileRecord,
)
from sagemaker_images.resources.states import APP_LIVE, AppStatus, StudioStatus, VersionStatus
from sagemaker_images.store import Reads, Writes

APP_WIRE = Wire(APP)
SORT_KEYS = {
    "CreationTime": pages.record_key(
        AppRecord, "created_ms", "domain_id", "owner_key", "type_key", "name"
    )
}
# Owners in these cannot take a new app.
_OWNER_GONE = frozenset({StudioStatus.DELETING, StudioStatus.DELETE_FAILED, StudioStatus.FAILED})
# The settings member of each app type (the types without one have no defaults).
SETTINGS_OF = {
    "JupyterServer": "JupyterServerAppSettings",
    "KernelGateway": "KernelGatewayAppSettings",
    "JupyterLab": "JupyterLabAppSettings",
    "CodeEditor": "CodeEditorAppSettings",
    "TensorBoard": "TensorBoardAppSettings",
    "RSessionGateway": "RSessionAppSettings",
}
# The AppImageConfig member (and its column) an app of each type launches a custom image
# with.
CONFIG_MEMBER = {
    "KernelGateway": ("KernelGatewayImageConfig", "kernel_gateway"),
    "JupyterLab": ("JupyterLabAppImageConfig", "jupyter_lab"),
    "CodeEditor": ("CodeEditorAppImageConfig", "code_editor"),
}
# SageMaker's own image for each type, when nothing names one (its account's, in every
# region here), and the instance type each runs on when nothing names one.
SAGEMAKER_IMAGES_ACCOUNT = "081325390199"
DEFAULT_IMAGES = {
    "JupyterServer": "jupyter-server-3",
    "KernelGateway": "sagemaker-base-python-310",
    "JupyterLab": "sagemaker-distribution-cpu",
    "CodeEditor": "sagemaker-distribution-cpu",
}
DEFAULT_INSTANCES = {
    "JupyterServer": "system",
    "JupyterLab": "ml.t3.medium",
    "CodeEditor": "ml.t3.medium",
}
IMAGE_MEMBERS = ("SageMakerImageArn", "SageMakerImageVersionArn", "SageMakerImageVersionAlias")


def app_arn(record: AppRecord) -> str:
    return APP.arn_of(record)


def _request_arn(ctx: RequestContext, request: dict[str, Any], owner: str) -> str:
    return APP.arn(
        ctx.region, ctx.account, request["DomainId"], owner, request["AppType"].lower(),
        request["AppName"],
    )  # fmt: skip


def _owner_of(request: dict[str, Any], prefix: str = "") -> tuple[str, str]:
    """("UserProfileName" or "SpaceName", the name) of the one owner a request names."""
    given = [m for m in ("UserProfileName", "SpaceName") if request.get(prefix + m) is not None]
    if len(given) != 1:
        raise ValidationError("Exactly one of UserProfileName and SpaceName must be specified.")
    return given[0], request[prefix + given[0]]


@dataclass(frozen=True, slots=True)
class Levels:
    """An app's owner and domain: the settings its ResourceSpec falls back on, nearest
    first (for a user profile's app, its UserSettings then the domain's
    DefaultUserSettings; for a space's, its SpaceSettings then the domain's
    DefaultSpaceSettings and DefaultUserSettings)."""

    documents: tuple[dict[str, Any], ...]

    def settings(self, app_type: str) -> Iterator[dict[str, Any]]:
        member = SETTINGS_OF.get(app_type)
        if member is None:
            return
        for document in self.documents:
            found = document.get(member)
            if isinstance(found, dict):
                yield found

    def default(self, app_type: str, member: str) -> Any:
        """The nearest level's `DefaultResourceSpec.<member>`, if any sets it."""
        for settings in self.settings(app_type):
            value = (settings.get("DefaultResourceSpec") or {}).get(member)
            if value is not None:
                return value
        return None

    def listed(self, app_type: str, member: str) -> list[Any] | None:
        """The union of a list member over the levels; None if no level has the list."""
        found: list[Any] | None = None
        for settings in self.settings(app_type):
            if member in settings:
                found = [*(found or []), *(settings.get(member) or [])]
        return found


def _levels(
    domain: DomainRecord, profile: UserProfileRecord | None, space: SpaceRecord | None
) -> Levels:
    documents: tuple[dict[str, Any] | None, ...]
    if space is not None:
        documents = (
            space.space_settings,
            domain.default_space_settings,
            domain.default_user_settings,
        )
    else:
        assert profile is not None
        documents = (profile.user_settings, domain.default_user_settings)
    return Levels(tuple(d for d in documents if d))


def resolved(request: dict[str, Any], app_type: str, levels: Levels) -> dict[str, Any]:
    """The ResourceSpec an app runs with: each member from the request, else from the
    nearest level's DefaultResourceSpec, else (image, instance type) the built-in one."""
    sent = request.get("ResourceSpec") or {}
    members = (*IMAGE_MEMBERS, "InstanceType", "LifecycleConfigArn")
    spec = {m: sent[m] if m in sent else levels.default(app_type, m) for m in members}
    return {k: v for k, v in spec.items() if v is not None}


def echoed(
    ctx: RequestContext, request: dict[str, Any], app_type: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """What Describe shows: the members sent, and the image and instance type resolved."""
    echo = dict(request.get("ResourceSpec") or {})
    image = spec.get("SageMakerImageArn") or _default_image(ctx, app_type)
    if "SageMakerImageArn" not in echo and image:
        echo["SageMakerImageArn"] = image
    instance = spec.get("InstanceType") or DEFAULT_INSTANCES.get(app_type)
    if "InstanceType" not in echo and instance:
        echo["InstanceType"] = instance
    return echo


def _default_image(ctx: RequestContext, app_type: str) -> str | None:
    name = DEFAULT_IMAGES.get(app_type)
    if name is None:
        return None
    return IMAGE.arn(ctx.region, SAGEMAKER_IMAGES_ACCOUNT, name)


async def _check_spec(
    reads: Reads, ctx: RequestContext, app_type: str, spec: dict[str, Any]
) -> None:
    """What the call alone can tell of a ResourceSpec (a ValidationException; the rest is
    the launch's to find)."""
    instance = spec.get("InstanceType")
    if app_type == "KernelGateway" and not instance:
        raise ValidationError("InstanceType is required for KernelGateway apps.")
    if app_type == "JupyterServer" and instance not in (None, "system"):
        raise ValidationError("JupyterServer apps only support the system InstanceType.")
    image = spec.get("SageMakerImageArn")
    version = spec.get("SageMakerImageVersionArn")
    alias = spec.get("SageMakerImageVersionAlias")
    if version and version != NO_CONFIG and alias:
        raise ValidationError(
            "Specify only one of SageMakerImageVersionArn and SageMakerImageVersionAlias."
        )
    if ((version and version != NO_CONFIG) or alias) and not image:
        raise ValidationError(
            "SageMakerImageArn is required with SageMakerImageVersionArn or"
            " SageMakerImageVersionAlias."
        )
    if version and version != NO_CONFIG and image:
        image_name = image.rsplit("/", 1)[-1].lower()
        if version.split(":image-version/", 1)[-1].split("/")[0] != image_name:
            raise ValidationError("SageMakerImageVersionArn does not belong to SageMakerImageArn.")
    config = spec.get("LifecycleConfigArn")
    if config and config != NO_CONFIG:
        await check_lifecycle_config(
            reads, ctx, config, app_type, "ResourceSpec.LifecycleConfigArn"
        )


class Apps(Handlers):
    kind = APP

    async def create_app(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        owner_member, owner_name = _owner_of(request)
        app_type = request["AppType"]
        settings = self._runtime.settings
        if app_type in settings.deprecated_app_type_names():
            raise ValidationError(
                f"Invalid AppType [{app_type}]. This AppType has been deprecated."
            )
        tags = tag_pairs(request.get("Tags", ()))
        now = self._runtime.clock()
        async with self._store.transaction() as tx:
            domain = await require_domain(tx, ctx, request["DomainId"], lock=True)
            if domain.status in _OWNER_GONE:
                raise in_state("Domain", DOMAIN.arn_of(domain), domain.status)
            profile, space = await _require_owner(tx, ctx, domain, owner_member, owner_name)
            owner = profile or space
            assert owner is not None
            arn = _request_arn(ctx, request, owner.name)
            apps = tx.of(APP)
            key = (domain.domain_id, owner.name_key, app_type.lower(), request["AppName"])
            held = await apps.find(ctx.account, ctx.region, *key, lock=True)
            if held is not None and held.status in APP_LIVE:
                raise ResourceInUse(f"App {arn} already exists.")
            if space is not None:
                await _check_space(tx, ctx, space, app_type)
            levels = _levels(domain, profile, space)
            spec = resolved(request, app_type, levels)
            await _check_spec(tx, ctx, app_type, spec)
            echo = echoed(ctx, request, app_type, spec)
            await self._check_quota(tx, ctx, app_type, echo.get("InstanceType"))
            if held is not None:  # a Deleted or Failed app of the key: replaced
                await apps.delete(held.id)
            built_in = next(
                (s["BuiltInLifecycleConfigArn"] for s in levels.settings(app_type)
                 if s.get("BuiltInLifecycleConfigArn")),
                None,
            )  # fmt: skip
            record = AppRecord(
                id=0,
                account=ctx.account,
                region=ctx.region,
                domain_id=domain.domain_id,
                user_profile_name=profile.name if profile else None,
                space_name=space.name if space else None,
                owner=owner.name,
                owner_key=owner.name_key,
                app_type=app_type,
                type_key=app_type.lower(),
                name=request["AppName"],
                resource_spec=echo,
                requested=request.get("ResourceSpec"),
                recovery_mode=request.get("RecoveryMode"),
                built_in_lifecycle_config_arn=built_in,
                status=AppStatus.PENDING,
                failure_reason=None,
                health_checked_ms=None,
                last_active_ms=None,
                runs_image=None,
                runs_version=None,
                created_ms=now,
                modified_ms=now,
            )
            row = await apps.insert(record)
            if domain.tag_propagation == "ENABLED":
                domain_tags = await tx.tags.of(DOMAIN.arn_type, domain.id)
                tags = {**domain_tags, **tags}
            await attach(tx, (APP.arn_type, row), tags)
            await tx.jobs.add(APP.job("create"), row, None, self._runtime.transition_due(now))
        return {"AppArn": arn}

    async def _check_quota(
        self, tx: Writes, ctx: RequestContext, app_type: str, instance: str | None
    ) -> None:
        limit = self._runtime.settings.max_running_apps
        if not limit:
            return
        running = [
            app
            for app in await tx.of(APP).matching(ctx.account, ctx.region, app_type=app_type)
            if app.status in (AppStatus.PENDING, AppStatus.IN_SERVICE)
            and app.resource_spec.get("InstanceType") == instance
        ]
        if len(running) >= limit:
            raise ResourceLimitExceeded(
                f"The account-level service limit '{app_type} Apps running on {instance}"
                f" instance' is {limit} Apps, with current utilization of {len(running)} Apps"
                " and a request delta of 1 Apps. Please use AWS Service Quotas to request an"
                " increase for this quota."
            )

    async def describe_app(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        app = await _require_app(self._store.reader, ctx, request)
        return app_details(app)

    async def delete_app(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        async with self._store.transaction() as tx:
            app = await _require_app(tx, ctx, request, lock=True)
            arn = app_arn(app)
            if app.status == AppStatus.DELETED:
                raise ValidationError(f"App {arn} has already been deleted.")
            if app.status == AppStatus.FAILED:
                raise ValidationError(f"App {arn} previously failed and was automatically deleted.")
            if app.status != AppStatus.IN_SERVICE:
                raise in_state("App", arn, app.status)
            now = self._runtime.clock()
            await tx.of(APP).update(app.id, status=AppStatus.DELETING, modified_ms=now)
            await tx.jobs.add(APP.job("delete"), app.id, None, self._runtime.transition_due(now))
        return {}

    async def list_apps(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("UserProfileNameEquals") and request.get("SpaceNameEquals"):
            raise ValidationError(
                "Only one of UserProfileNameEquals and SpaceNameEquals can be set."
            )
        listing = studio_listing("ListApps", ctx, request, SORT_KEYS)
        equal: dict[str, Any] = {"domain_id": request.get("DomainIdEquals")}
        present: list[str] = []
        for member, column in (
            ("UserProfileNameEquals", "user_profile_name"),
            ("SpaceNameEquals", "space_name"),
        ):
            if request.get(member):
                equal["owner_key"] = request[member].lower()  # names compare ignoring case
                present.append(column)
        rows = await self._store.reader.of(APP).page(
            ctx.account, ctx.region, listing.page, equal=equal, present=present
        )
        return {
            "Apps": [APP_WIRE.listed(row, "") for row in rows[: listing.limit]],
            "NextToken": listing.next_token(rows),
        }


def app_details(app: AppRecord) -> dict[str, Any]:
    """DescribeApp's answer for an app."""
    prefix = APP.arn_prefix(app.region, app.account, app.domain_id, app.owner, app.type_key)
    return APP_WIRE.described(app, prefix)


async def _require_owner(
    reads: Reads, ctx: RequestContext, domain: DomainRecord, member: str, name: str
) -> tuple[UserProfileRecord | None, SpaceRecord | None]:
    kind: ResourceKind[Any] = USER_PROFILE if member == "UserProfileName" else SPACE
    # Locked: an owner's delete, which refuses while it has live apps, waits for this call.
    rows = reads.of(kind)
    found = await rows.find(ctx.account, ctx.region, domain.domain_id, name.lower(), lock=True)
    arn = kind.arn(ctx.region, ctx.account, domain.domain_id, name)
    if found is None:
        raise ResourceNotFound(f"{kind.wire} {arn} does not exist.")
    if found.status in _OWNER_GONE:
        raise in_state(kind.wire, arn, found.status)
    if kind is USER_PROFILE:
        return found, None
    return None, found


async def _check_space(
    reads: Reads, ctx: RequestContext, space: SpaceRecord, app_type: str
) -> None:
    """A space runs apps of its one AppType, one at a time."""
    arn = SPACE.arn_of(space)
    only = (space.space_settings or {}).get("AppType")
    if only is not None and only != app_type:
        raise ValidationError(f"Space {arn} only supports AppType {only}.")
    for app in await reads.of(APP).matching(
        ctx.account, ctx.region, domain_id=space.domain_id, owner_key=space.name_key
    ):
        if app.space_name is not None and app.status in APP_LIVE:
            raise ResourceInUse(f"Space {arn} already has App {app_arn(app)}.")


async def _require_app(
    reads: Reads, ctx: RequestContext, request: dict[str, Any], *, lock: bool = False
) -> AppRecord:
    member, owner = _owner_of(request)
    app = await reads.of(APP).find(
        ctx.account,
        ctx.region,
        request["DomainId"],
        owner.lower(),
        request["AppType"].lower(),
        request["AppName"],
        lock=lock,
    )
    if app is None or (app.space_name is not None) != (member == "SpaceName"):
        raise ResourceNotFound(f"App {_request_arn(ctx, request, owner)} does not exist.")
    return app


async def live_apps(
    reads: Reads, ctx: RequestContext, domain_id: str, owner: Any = None
) -> list[AppRecord]:
    """The apps of a domain (of one user profile's or space's record, `owner`) that are
    Pending, InService or Deleting."""
    apps = await reads.of(APP).matching(
        ctx.account,
        ctx.region,
        domain_id=domain_id,
        owner_key=None if owner is None else owner.name_key,
    )
    return [app for app in apps if app.status in APP_LIVE and _owned_by(app, owner)]


def _owned_by(app: AppRecord, owner: Any) -> bool:
    if owner is None:
        return True
    return (app.space_name is None) == isinstance(owner, UserProfileRecord)


async def release_apps(tx: Writes, ctx: RequestContext, owner: Any, arn: str) -> None:
    """Before a user profile or a space is deleted: refused while it has live apps (as
    AWS words it); its Deleted and Failed apps' records go now, with it."""
    kind = "UserProfile" if isinstance(owner, UserProfileRecord) else "Space"
    if await live_apps(tx, ctx, owner.domain_id, owner):
        raise ResourceInUse(
            f"Unable to delete {kind} [{arn}] because App(s) are associated with it."
        )
    apps = tx.of(APP)
    for app in await apps.matching(
        ctx.account, ctx.region, domain_id=owner.domain_id, owner_key=owner.name_key
    ):
        if _owned_by(app, owner):
            await apps.delete(app.id)


# -- the launch -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Launch:
    """How an app's launch went: why it cannot start (AWS's FailureReason), or which of
    the catalog's images and versions it runs (None for SageMaker's own)."""

    failure: str | None = None
    image: str | None = None  # the image's name, lower-cased
    version: int | None = None
    app_image_config: str | None = None  # the name its CustomImages entry gives


async def launch(reads: Reads, app: AppRecord) -> Launch:
    """The app's ResourceSpec resolved against the catalog as it is now."""
    ctx = RequestContext(app.account, app.region, "")
    domain = await reads.of(DOMAIN).find(app.account, app.region, app.domain_id)
    kind: ResourceKind[Any] = USER_PROFILE if app.user_profile_name is not None else SPACE
    owner = await reads.of(kind).find(app.account, app.region, app.domain_id, app.owner_key)
    if domain is None or owner is None:
        return Launch(
            f"ResourceNotFoundError: Unable to launch App [{app_arn(app)}]: its owner is gone."
        )
    levels = _levels(
        domain,
        owner if kind is USER_PROFILE else None,
        owner if kind is SPACE else None,
    )
    spec = resolved({"ResourceSpec": app.requested or {}}, app.app_type, levels)
    launched = await _image(reads, ctx, app, spec, levels)
    if launched.failure is None:
        failure = _lifecycle_refusal(app, spec, levels)
        if failure is not None:
            return Launch(failure)
    return launched


async def _image(
    reads: Reads, ctx: RequestContext, app: AppRecord, spec: dict[str, Any], levels: Levels
) -> Launch:
    image_arn = spec.get("SageMakerImageArn")
    if not image_arn:
        return Launch()  # SageMaker's own image for the type
    arn = app_arn(app)
    head, _, name = image_arn.rpartition("/")
    if head.split(":")[4:5] != [ctx.account] or head.split(":")[3:4] != [ctx.region]:
        return Launch()  # a SageMaker-provided image (another account's): not ours to check
    attached = [
        custom
        for settings in levels.settings(app.app_type)
        for custom in settings.get("CustomImages") or ()
        if custom["ImageName"].lower() == name.lower()
    ]
    if not attached:  # (apps of a type without a CustomImages list never have one)
        return Launch(
            f"ResourceNotFoundError: Unable to launch App [{arn}] with Image [{name}] because"
            " it is not present in list of custom images in AppSettings. Please update"
            f" AppSettings to add Image [{name}] in list of custom images."
        )
    image = await reads.of(IMAGE).find(ctx.account, ctx.region, name.lower())
    if image is None:
        return Launch(
            f"ResourceNotFoundError: Unable to launch App [{arn}] with Image [{name}] because"
            " the Image does not exist."
        )
    wanted, version = await _version(reads, image.id, spec, attached[0])
    if version is None or version.status != VersionStatus.CREATED:
        return Launch(
            f"ResourceNotFoundError: Unable to launch App [{arn}] with Image [{name}] because"
            f" ImageVersion [{wanted}] does not exist or is not in CREATED state."
        )
    config_name = attached[0]["AppImageConfigName"]
    config = await reads.of(APP_IMAGE_CONFIG).find(ctx.account, ctx.region, config_name.lower())
    if config is None:
        return Launch(
            f"ResourceNotFoundError: Unable to launch App [{arn}] because AppImageConfig"
            f" [{config_name}] does not exist."
        )
    member, column = CONFIG_MEMBER.get(app.app_type, (None, None))
    if column is not None and getattr(config, column) is None:
        return Launch(
            f"ResourceNotFoundError: Unable to launch App [{arn}] because AppImageConfig"
            f" [{config_name}] has no {member} for {app.app_type} apps."
        )
    return Launch(image=image.name_key, version=version.version, app_image_config=config.name)


async def _version(
    reads: Reads, image_id: int, spec: dict[str, Any], custom: dict[str, Any]
) -> tuple[str, Any]:
    """(How the version was asked for, the version or None)."""
    version_arn = spec.get("SageMakerImageVersionArn")
    if version_arn and version_arn != NO_CONFIG:
        number = version_arn.rsplit("/", 1)[-1]
        if not number.isdigit():
            return number, None
        return number, await reads.versions.find(image_id, int(number))
    alias = spec.get("SageMakerImageVersionAlias")
    if alias:
        held = await reads.aliases.version_of(image_id, alias)
        return alias, None if held is None else await reads.versions.find(image_id, held)
    number = custom.get("ImageVersionNumber")
    if number:
        return str(number), await reads.versions.find(image_id, number)
    created = [
        v for v in await reads.versions.of_image(image_id) if v.status == VersionStatus.CREATED
    ]
    return "latest", created[-1] if created else None


def _lifecycle_refusal(app: AppRecord, spec: dict[str, Any], levels: Levels) -> str | None:
    config = spec.get("LifecycleConfigArn")
    if not config or config == NO_CONFIG:
        return None
    listed = levels.listed(app.app_type, "LifecycleConfigArns")
    requested = (app.requested or {}).get("LifecycleConfigArn") == config
    if listed is None and requested:
        return None  # sent with the app, where no level lists any: as AWS takes it
    if listed and config.lower() in (arn.lower() for arn in listed):
        return None
    return (
        f"ValidationError: Lifecycle Configuration [{config}] is not attached to the"
        f" {app.app_type} app settings."
    )
