"""CreateStudioLifecycleConfig, DescribeStudioLifecycleConfig,
DeleteStudioLifecycleConfig, ListStudioLifecycleConfigs.

Synchronous and immutable: there is no Update, and LastModifiedTime is CreationTime. The
content is kept byte for byte, never decoded. Domain, user profile and space settings
refer to configs by ARN (checked when attached, catalog/studio.py); a config so referred
to, or named by the ResourceSpec of a live app, cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.catalog import pages
from sagemaker_images.catalog.answers import Wire
from sagemaker_images.catalog.common import Handlers
from sagemaker_images.catalog.studio import lifecycle_config_holder
from sagemaker_images.catalog.tags import attach, tag_pairs
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import ResourceInUse, ResourceNotFound
from sagemaker_images.resources.kinds import LIFECYCLE_CONFIG
from sagemaker_images.resources.records import LifecycleConfigRecord
from sagemaker_images.store import DuplicateKey, Reads

CONFIG_WIRE = Wire(LIFECYCLE_CONFIG)
SORT_KEYS = pages.named_sort_keys(LifecycleConfigRecord, "CreationTime", "LastModifiedTime", "Name")


def config_arn(ctx: RequestContext, name: str) -> str:
    return LIFECYCLE_CONFIG.arn(ctx.region, ctx.account, name)


async def require_lifecycle_config(
    reads: Reads, ctx: RequestContext, name: str, *, lock: bool = False
) -> LifecycleConfigRecord:
    rows = reads.of(LIFECYCLE_CONFIG)
    config = await rows.find(ctx.account, ctx.region, name.lower(), lock=lock)
    if config is None:
        raise ResourceNotFound(f"Studio Lifecycle Config {config_arn(ctx, name)} does not exist.")
    return config


class LifecycleConfigs(Handlers):
    kind = LIFECYCLE_CONFIG

    async def create_studio_lifecycle_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = request["StudioLifecycleConfigName"]
        tags = tag_pairs(request.get("Tags", ()))
        now = self._runtime.clock()
        record = LifecycleConfigRecord(
            id=0,
            account=ctx.account,
            region=ctx.region,
            name_key=name.lower(),
            created_ms=now,
            modified_ms=now,  # immutable: last modified when made
            **CONFIG_WIRE.given(request),
        )
        arn = config_arn(ctx, name)
        async with self._store.transaction() as tx:
            configs = tx.of(LIFECYCLE_CONFIG)
            if await configs.find(ctx.account, ctx.region, record.name_key) is not None:
                raise ResourceInUse(f"Studio Lifecycle Config {arn} already exists.")
            try:
                row = await configs.insert(record)
            except DuplicateKey:
                raise ResourceInUse(f"Studio Lifecycle Config {arn} already exists.") from None
            await attach(tx, (LIFECYCLE_CONFIG.arn_type, row), tags)
        return {"StudioLifecycleConfigArn": arn}

    async def describe_studio_lifecycle_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        name = request["StudioLifecycleConfigName"]
        config = await require_lifecycle_config(self._store.reader, ctx, name)
        return CONFIG_WIRE.described(config, LIFECYCLE_CONFIG.arn_prefix(ctx.region, ctx.account))

    async def delete_studio_lifecycle_config(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        async with self._store.transaction() as tx:
            name = request["StudioLifecycleConfigName"]
            config = await require_lifecycle_config(tx, ctx, name, lock=True)
            arn = config_arn(ctx, config.name)
            holder = await lifecycle_config_holder(tx, ctx, arn)
            if holder is not None:
                raise ResourceInUse(
                    f"Unable to delete Studio Lifecycle Config [{arn}] because it is in use by"
                    f" {holder}."
                )
            await tx.of(LIFECYCLE_CONFIG).delete(config.id)
        return {}

    async def list_studio_lifecycle_configs(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_by_name(
            ctx, request, CONFIG_WIRE, SORT_KEYS, equal={"app_type": request.get("AppTypeEquals")}
        )
