"""What Studio's domains, user profiles and spaces share: their URLs, the deep
merge of their settings on update, the custom images those settings attach, their states.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.common import DEFAULT_PAGE_SIZE, Runtime
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound, ValidationError
from sagemaker_images.resources.kinds import (
    APP,
    APP_IMAGE_CONFIG,
    DOMAIN,
    IMAGE,
    LIFECYCLE_CONFIG,
    SPACE,
    USER_PROFILE,
    ResourceKind,
)
from sagemaker_images.resources.records import DomainRecord
from sagemaker_images.resources.states import APP_LIVE, STUDIO_BUSY, StudioStatus
from sagemaker_images.store import Reads, Writes

# States in which a domain takes new user profiles and spaces.
DOMAIN_USABLE = frozenset(
    {StudioStatus.IN_SERVICE, StudioStatus.UPDATING, StudioStatus.UPDATE_FAILED}
)
# States an update may start from (a failed creation is deleted and made again).
UPDATABLE = frozenset({StudioStatus.IN_SERVICE, StudioStatus.UPDATE_FAILED})


def studio_url(host: str, region: str) -> str:
    return f"https://{host}.studio.{region}.sagemaker.aws"


def merged(stored: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """`stored` with `update` applied as AWS applies an Update call's settings: members the
    update leaves out keep their value, structures it sends are merged member by member,
    and scalars and lists it sends replace (so `CustomImages: []` detaches every image).
    """
    result = dict(stored or {})
    for key, value in update.items():
        held = result.get(key)
        if isinstance(value, dict) and isinstance(held, dict):
            result[key] = merged(held, value)
        else:
            result[key] = value
    return result


def custom_images(
    document: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every CustomImage of a settings document, wherever the model puts one, with the
    members that lead to its list (`("KernelGatewayAppSettings",)`)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "CustomImages" and isinstance(value, list):
                yield from ((path, custom) for custom in value)
            else:
                yield from custom_images(value, (*path, key))
    elif isinstance(document, list):
        for item in document:
            yield from custom_images(item, path)


# The app type of each settings member that names lifecycle configs (None: no lifecycle
# config can run in its apps).
SETTINGS_APP_TYPES: dict[str, str | None] = {
    "JupyterServerAppSettings": "JupyterServer",
    "KernelGatewayAppSettings": "KernelGateway",
    "JupyterLabAppSettings": "JupyterLab",
    "CodeEditorAppSettings": "CodeEditor",
    "TensorBoardAppSettings": None,
    "RSessionAppSettings": None,
}
NO_CONFIG = "None"  # what a caller sends to say "no lifecycle config"


def lifecycle_configs(document: Any) -> Iterator[tuple[str, str | None, str]]:
    """Every lifecycle config ARN a settings document names: (where, as
    `KernelGatewayAppSettings.LifecycleConfigArns`; the app type it must be of; the ARN)."""
    if not isinstance(document, dict):
        return
    for member, app_type in SETTINGS_APP_TYPES.items():
        settings = document.get(member)
        if not isinstance(settings, dict):
            continue
        spec = settings.get("DefaultResourceSpec") or {}
        named = [("DefaultResourceSpec.LifecycleConfigArn", spec.get("LifecycleConfigArn"))]
        named += [("LifecycleConfigArns", arn) for arn in settings.get("LifecycleConfigArns") or ()]
        named.append(("BuiltInLifecycleConfigArn", settings.get("BuiltInLifecycleConfigArn")))
        for where, arn in named:
            if arn and arn != NO_CONFIG:
                yield f"{member}.{where}", app_type, arn


def lifecycle_config_name(ctx: RequestContext, arn: str) -> str | None:
    """The name of the lifecycle config an ARN names in the caller's account and region."""
    prefix = LIFECYCLE_CONFIG.arn_prefix(ctx.region, ctx.account)
    if not arn.startswith(prefix) or "/" in arn[len(prefix) :]:
        return None
    return arn[len(prefix) :] or None


async def check_lifecycle_config(
    reads: Reads, ctx: RequestContext, arn: str, app_type: str | None, where: str
) -> None:
    """The ARN must name a lifecycle config of the caller's, for apps of `app_type`.
    Locked (in a transaction) until it commits: a delete of the config, which refuses
    while anything names it, waits for the reference to be written, or wins before it."""
    name = lifecycle_config_name(ctx, arn)
    configs = reads.of(LIFECYCLE_CONFIG)
    found = (
        None
        if name is None
        else await configs.find(ctx.account, ctx.region, name.lower(), lock=True)
    )
    if found is None:
        raise ValidationError(f"Studio Lifecycle Config {arn} does not exist.")
    if found.app_type != app_type:
        raise ValidationError(
            f"Studio Lifecycle Config {arn} has app type {found.app_type}; {where} requires"
            f" {app_type or 'none: no lifecycle config runs in its apps'}."
        )


async def check_attachments(
    reads: Reads, ctx: RequestContext, documents: Iterable[dict[str, Any] | None]
) -> None:
    """What settings attach must exist in the caller's account and region: each image,
    AppImageConfig and (above 0) version, and each lifecycle config, of the app type of
    the settings that name it. An absent or 0 version is accepted and kept as sent: AWS
    takes the latest version then, when an app starts."""
    documents = [d for d in documents if d]
    for document in documents:
        for where, app_type, arn in lifecycle_configs(document):
            await check_lifecycle_config(reads, ctx, arn, app_type, where)
    for _, custom in (c for d in documents for c in custom_images(d)):
        name = custom["ImageName"]
        image = await reads.of(IMAGE).find(ctx.account, ctx.region, name.lower())
        if image is None:
            raise ValidationError(f"Image {name} does not exist.")
        config_name = custom["AppImageConfigName"]
        configs = reads.of(APP_IMAGE_CONFIG)
        if await configs.find(ctx.account, ctx.region, config_name.lower()) is None:
            raise ValidationError(f"AppImageConfig {config_name} does not exist.")
        number = custom.get("ImageVersionNumber")
        if number and await reads.versions.find(image.id, number) is None:
            raise ValidationError(f"ImageVersion {number} of Image {name} does not exist.")


async def lifecycle_config_holder(reads: Reads, ctx: RequestContext, arn: str) -> str | None:
    """What holds on to a lifecycle config, as `Domain [<arn>]`: settings that name it, or
    a live app whose ResourceSpec does; None when nothing does."""
    wanted = arn.lower()
    domains, profiles, spaces = await reads.browse.studio(ctx.account, ctx.region)
    holders: list[tuple[Any, ResourceKind[Any], tuple[Any, ...]]] = [
        *((d, DOMAIN, (d.default_user_settings, d.default_space_settings)) for d in domains),
        *((p, USER_PROFILE, (p.user_settings,)) for p in profiles),
        *((s, SPACE, (s.space_settings,)) for s in spaces),
    ]
    for record, kind, documents in holders:
        for document in documents:
            if any(named.lower() == wanted for *_, named in lifecycle_configs(document)):
                return f"{kind.wire} [{kind.arn_of(record)}]"
    for app in await reads.of(APP).matching(ctx.account, ctx.region):
        if app.status in APP_LIVE:
            named = (app.resource_spec or {}).get("LifecycleConfigArn") or ""
            if named.lower() == wanted:
                return f"App [{APP.arn_of(app)}]"
    return None


def in_state(kind: str, arn: str, status: str) -> ResourceInUse:
    return ResourceInUse(f"{kind} {arn} is in {status} state.")


def refuse_unless(kind: str, arn: str, status: str, allowed: frozenset[StudioStatus]) -> None:
    if status not in allowed:
        raise in_state(kind, arn, status)


def refuse_if_busy(kind: str, arn: str, status: str) -> None:
    """A delete waits for a transition in progress (and one already deleting)."""
    if status in STUDIO_BUSY:
        raise in_state(kind, arn, status)


def domain_not_found(domain_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Domain {domain_id} does not exist.")


async def require_domain(
    reads: Reads, ctx: RequestContext, domain_id: str, *, lock: bool = False
) -> DomainRecord:
    domain = await reads.of(DOMAIN).find(ctx.account, ctx.region, domain_id, lock=lock)
    if domain is None:
        raise domain_not_found(domain_id)
    return domain


async def begin_transition(
    runtime: Runtime,
    tx: Writes,
    kind: ResourceKind[Any],
    step: str,
    row_id: int,
    **changes: Any,
) -> None:
    """Put a resource in the status of `step` (with `changes`) and add the job that ends
    it, in the caller's transaction, as every Studio update and delete does."""
    assert kind.transitions is not None
    now = runtime.clock()
    status = kind.transitions.steps[step].busy
    await tx.of(kind).update(row_id, status=status, modified_ms=now, **changes)
    await tx.jobs.add(kind.job(step), row_id, None, runtime.transition_due(now))


def member_sort_keys(record_type: type) -> dict[str, pages.SortKey]:
    """ListUserProfiles' and ListSpaces' orders; ties broken by domain, then name."""
    return {
        sort: pages.record_key(record_type, column, "domain_id", "name_key")
        for sort, column in (("CreationTime", "created_ms"), ("LastModifiedTime", "modified_ms"))
    }


def studio_listing(
    operation: str,
    ctx: RequestContext,
    request: dict[str, Any],
    sort_keys: dict[str, pages.SortKey],
) -> pages.Listing:
    """The page a Studio List call asks for: oldest first unless asked otherwise."""
    return pages.sorted_listing(
        operation,
        ctx,
        request,
        sort_keys,
        default_sort="CreationTime",
        descending="Descending",
        default_order="Ascending",
        page_size=DEFAULT_PAGE_SIZE,
    )
